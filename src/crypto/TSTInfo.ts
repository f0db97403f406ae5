/**
 * The time-stamp token's content (RFC 3161 §2.4.2).
 *
 * ```asn1
 * TSTInfo ::= SEQUENCE {
 *   version         INTEGER { v1(1) },
 *   policy          TSAPolicyId,                    -- OBJECT IDENTIFIER
 *   messageImprint  MessageImprint,                 -- same value as in the request
 *   serialNumber    INTEGER,                        -- positive, unique per TSA
 *   genTime         GeneralizedTime,                -- DER: Z, fraction without trailing zeros
 *   accuracy        Accuracy OPTIONAL,
 *   ordering        BOOLEAN DEFAULT FALSE,          -- DER: omitted when FALSE
 *   nonce           INTEGER OPTIONAL,               -- copied from the request
 *   tsa             [0] GeneralName OPTIONAL,
 *   extensions      [1] IMPLICIT Extensions OPTIONAL }
 * MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }
 * Accuracy ::= SEQUENCE {
 *   seconds  INTEGER OPTIONAL,
 *   millis   [0] INTEGER (1..999) OPTIONAL,
 *   micros   [1] INTEGER (1..999) OPTIONAL }
 * ```
 */
import { readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import {
  DerError,
  DerSequence,
  Tag,
  contextTag,
  implicit,
  integer,
  octetString,
  readBoolean,
  readDer,
  readInteger,
  readOctetString,
  readOid,
  readSmallInteger,
  readTime,
  sequence,
  type DerNode,
} from './der.js';

export interface MessageImprint {
  hashAlgorithmOid: string;
  /** The AlgorithmIdentifier exactly as the requester encoded it (RFC 3161 §2.4.2 asks for the same value back). */
  hashAlgorithmDer: Uint8Array;
  hashedMessage: Uint8Array;
}

export function encodeMessageImprint(imprint: MessageImprint): Uint8Array {
  return sequence(imprint.hashAlgorithmDer, octetString(imprint.hashedMessage));
}

export function readMessageImprint(node: DerNode): MessageImprint {
  const s = new DerSequence(node, 'MessageImprint');
  const algNode = s.next(Tag.SEQUENCE, 'hashAlgorithm');
  const hashedMessage = readOctetString(s.next(Tag.OCTET_STRING, 'hashedMessage'));
  s.end();
  return { hashAlgorithmOid: readAlgorithmIdentifier(algNode).oid, hashAlgorithmDer: algNode.bytes, hashedMessage };
}

/** Accuracy in milliseconds → seconds and millis fields (micros never needed). */
export function encodeAccuracy(accuracyMs: number): Uint8Array {
  const seconds = Math.floor(accuracyMs / 1000);
  const millis = accuracyMs % 1000;
  const parts: Uint8Array[] = [];
  if (seconds > 0) parts.push(integer(seconds));
  if (millis > 0) parts.push(implicit(0, integer(millis)));
  return sequence(...parts);
}

export interface TSTInfo {
  version: number;
  policy: string;
  messageImprint: MessageImprint;
  serialNumber: bigint;
  genTime: Date;
  /** Accuracy in milliseconds, when given. */
  accuracyMs?: number;
  ordering: boolean;
  nonce?: bigint;
}

/**
 * Reads a DER TSTInfo; throws DerError when malformed, and for a version other than 1 unless
 * `anyVersion` (the verifier reads it to report the version on its own line, CadesProfile.ts).
 */
export function parseTSTInfo(der: Uint8Array, options: { anyVersion?: boolean } = {}): TSTInfo {
  const s = new DerSequence(readDer(der), 'TSTInfo');
  const version = readSmallInteger(s.next(Tag.INTEGER, 'version'));
  if (version !== 1 && !options.anyVersion) throw new DerError(`TSTInfo: version ${version}, expected 1`);
  const policy = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'policy'));
  const messageImprint = readMessageImprint(s.next(Tag.SEQUENCE, 'messageImprint'));
  const serialNumber = readInteger(s.next(Tag.INTEGER, 'serialNumber'));
  const genTime = readTime(s.next(Tag.GENERALIZED_TIME, 'genTime'));
  const accuracyNode = s.optional(Tag.SEQUENCE);
  const orderingNode = s.optional(Tag.BOOLEAN);
  const nonceNode = s.optional(Tag.INTEGER);
  s.optional(contextTag(0, true)); // tsa
  s.optional(contextTag(1, true)); // extensions
  s.end();
  let accuracyMs: number | undefined;
  if (accuracyNode) {
    const a = new DerSequence(accuracyNode, 'Accuracy');
    const seconds = a.optional(Tag.INTEGER);
    const millis = a.optional(contextTag(0, false));
    const micros = a.optional(contextTag(1, false));
    a.end();
    const int = (n: DerNode | undefined) => (n ? readSmallInteger({ ...n, tag: Tag.INTEGER }) : 0);
    accuracyMs = int(seconds) * 1000 + int(millis) + int(micros) / 1000;
  }
  return {
    version,
    policy,
    messageImprint,
    serialNumber,
    genTime,
    ...(accuracyMs !== undefined ? { accuracyMs } : {}),
    ordering: orderingNode ? readBoolean(orderingNode) : false,
    ...(nonceNode ? { nonce: readInteger(nonceNode) } : {}),
  };
}
