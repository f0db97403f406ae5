/**
 * The time-stamp request (RFC 3161 §2.4.1).
 *
 * ```asn1
 * TimeStampReq ::= SEQUENCE {
 *   version         INTEGER { v1(1) },
 *   messageImprint  MessageImprint,
 *   reqPolicy       TSAPolicyId OPTIONAL,
 *   nonce           INTEGER OPTIONAL,
 *   certReq         BOOLEAN DEFAULT FALSE,
 *   extensions      [0] IMPLICIT Extensions OPTIONAL }
 * ```
 */
import { DerSequence, Tag, boolean, contextTag, integer, oid, readBoolean, readDer, readInteger, readOid, readSmallInteger, sequence } from './der.js';
import { encodeMessageImprint, readMessageImprint, type MessageImprint } from './TSTInfo.js';

export interface TimeStampReq {
  version: number;
  messageImprint: MessageImprint;
  reqPolicy?: string;
  nonce?: bigint;
  certReq: boolean;
  hasExtensions: boolean;
}

export function encodeTimeStampReq(req: { messageImprint: MessageImprint; reqPolicy?: string; nonce?: bigint; certReq: boolean }): Uint8Array {
  const parts = [integer(1), encodeMessageImprint(req.messageImprint)];
  if (req.reqPolicy) parts.push(oid(req.reqPolicy));
  if (req.nonce !== undefined) parts.push(integer(req.nonce));
  if (req.certReq) parts.push(boolean(true)); // FALSE is the DEFAULT: omitted
  return sequence(...parts);
}

/** Parses a DER TimeStampReq; throws DerError for anything else. */
export function parseTimeStampReq(der: Uint8Array): TimeStampReq {
  const s = new DerSequence(readDer(der), 'TimeStampReq');
  const version = readSmallInteger(s.next(Tag.INTEGER, 'version'));
  const messageImprint = readMessageImprint(s.next(Tag.SEQUENCE, 'messageImprint'));
  const policyNode = s.optional(Tag.OBJECT_IDENTIFIER);
  const nonceNode = s.optional(Tag.INTEGER);
  const certReqNode = s.optional(Tag.BOOLEAN);
  const extensions = s.optional(contextTag(0, true));
  s.end();
  return {
    version,
    messageImprint,
    ...(policyNode ? { reqPolicy: readOid(policyNode) } : {}),
    ...(nonceNode ? { nonce: readInteger(nonceNode) } : {}),
    certReq: certReqNode ? readBoolean(certReqNode) : false,
    hasExtensions: extensions !== undefined,
  };
}
