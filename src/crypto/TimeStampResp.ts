/**
 * The time-stamp response (RFC 3161 §2.4.2) and its status (RFC 4210 §5.2.3 via RFC 3161).
 *
 * ```asn1
 * TimeStampResp ::= SEQUENCE {
 *   status          PKIStatusInfo,
 *   timeStampToken  TimeStampToken OPTIONAL }       -- present iff status is granted(0) or grantedWithMods(1)
 * PKIStatusInfo ::= SEQUENCE {
 *   status        PKIStatus,
 *   statusString  PKIFreeText OPTIONAL,             -- SEQUENCE SIZE (1..MAX) OF UTF8String
 *   failInfo      PKIFailureInfo OPTIONAL }
 * PKIStatus ::= INTEGER { granted (0), grantedWithMods (1), rejection (2), waiting (3),
 *   revocationWarning (4), revocationNotification (5) }
 * PKIFailureInfo ::= BIT STRING { badAlg (0), badRequest (2), badDataFormat (5),
 *   timeNotAvailable (14), unacceptedPolicy (15), unacceptedExtension (16),
 *   addInfoNotAvailable (17), systemFailure (25) }
 * ```
 */
import { DerError, DerSequence, Tag, bitIsSet, integer, namedBitString, readBitString, readDer, readSmallInteger, readString, sequence, utf8String } from './der.js';

export const PKI_STATUS = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'] as const;
export type PKIStatus = (typeof PKI_STATUS)[number];

export const PKI_FAILURE_INFO_BITS = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type PKIFailureInfo = keyof typeof PKI_FAILURE_INFO_BITS;

export interface TimeStampResp {
  status: PKIStatus;
  statusString?: string;
  failInfo: PKIFailureInfo[];
  /** The TimeStampToken DER (a ContentInfo). */
  token?: Uint8Array;
}

export function encodeTimeStampResp(resp: TimeStampResp): Uint8Array {
  const statusInfo = [integer(PKI_STATUS.indexOf(resp.status))];
  if (resp.statusString) statusInfo.push(sequence(utf8String(resp.statusString)));
  if (resp.failInfo.length) statusInfo.push(namedBitString(resp.failInfo.map((f) => PKI_FAILURE_INFO_BITS[f])));
  return resp.token ? sequence(sequence(...statusInfo), resp.token) : sequence(sequence(...statusInfo));
}

/** Parses a DER TimeStampResp; throws DerError for anything else. */
export function parseTimeStampResp(der: Uint8Array): TimeStampResp {
  const s = new DerSequence(readDer(der), 'TimeStampResp');
  const si = new DerSequence(s.next(Tag.SEQUENCE, 'status'), 'PKIStatusInfo');
  const code = readSmallInteger(si.next(Tag.INTEGER, 'status'));
  const status = PKI_STATUS[code];
  if (!status) throw new DerError(`PKIStatusInfo: unknown status ${code}`);
  const text = si.optional(Tag.SEQUENCE);
  const failNode = si.optional(Tag.BIT_STRING);
  si.end();
  const token = s.optional(Tag.SEQUENCE);
  s.end();
  const failInfo: PKIFailureInfo[] = [];
  if (failNode) {
    const { bytes } = readBitString(failNode);
    for (const [name, bit] of Object.entries(PKI_FAILURE_INFO_BITS)) if (bitIsSet(bytes, bit)) failInfo.push(name as PKIFailureInfo);
  }
  const statusString = text?.children.map(readString).join('; ');
  return { status, ...(statusString ? { statusString } : {}), failInfo, ...(token ? { token: token.bytes } : {}) };
}
