/**
 * Where sealing gets its RFC 3161 time-stamps from: the built-in authority in process
 * (LocalTimeStamper) or any RFC 3161 service over HTTP (HttpTimeStamper).
 */
import { digest, digestAlgorithmIdentifier, hashLength, hashOid, type HashName } from './AlgorithmIdentifier.js';
import { DerError, equalBytes, readDer } from './der.js';
import { TimeStampError } from './TimeStampError.js';
import { inspectTimeStampToken } from './TimeStampToken.js';
import type { MessageImprint } from './TSTInfo.js';

export interface TimeStamper {
  /**
   * Returns a TimeStampToken (DER ContentInfo with SignedData) whose messageImprint is
   * SHA-256(data), after checking that the answer carries that imprint and the nonce sent.
   */
  timestamp(data: Uint8Array): Promise<Uint8Array>;
}

/**
 * A TimeStamper that can also be asked for a token over a hash value it did not compute
 * (RFC 4998 §4.2: an archive time-stamp's imprint is the hash tree's root itself).
 */
export interface DigestTimeStamper extends TimeStamper {
  /**
   * A TimeStampToken whose messageImprint is `algorithm` (default SHA-256) with `hashedMessage`
   * (as long as that hash: 32, 48 or 64 octets), checked as `timestamp` checks.
   */
  timestampDigest(hashedMessage: Uint8Array, algorithm?: HashName): Promise<Uint8Array>;
}

/** MessageImprint for SHA-256(data); hashAlgorithm parameters absent (RFC 5754 §2). */
export function sha256Imprint(data: Uint8Array): MessageImprint {
  return { hashAlgorithmOid: hashOid('SHA-256'), hashAlgorithmDer: digestAlgorithmIdentifier('SHA-256'), hashedMessage: digest('SHA-256', data) };
}

/** MessageImprint for a SHA-2 value computed elsewhere; hashAlgorithm parameters absent (RFC 5754 §2). */
export function digestImprint(hashedMessage: Uint8Array, algorithm: HashName = 'SHA-256'): MessageImprint {
  if (!(['SHA-256', 'SHA-384', 'SHA-512'] as unknown[]).includes(algorithm)) throw new RangeError(`unsupported imprint hash algorithm: ${String(algorithm)}`);
  if (!(hashedMessage instanceof Uint8Array) || hashedMessage.length !== hashLength(algorithm)) {
    throw new RangeError(`a ${algorithm} value has ${hashLength(algorithm)} octets, not ${hashedMessage instanceof Uint8Array ? hashedMessage.length : typeof hashedMessage}`);
  }
  return { hashAlgorithmOid: hashOid(algorithm), hashAlgorithmDer: digestAlgorithmIdentifier(algorithm), hashedMessage: Uint8Array.from(hashedMessage) };
}

/**
 * Checks that a token answers the request made: well-formed strict DER, validly signed by a
 * suitable TSA certificate, for the imprint, nonce (and policy) asked. Throws TimeStampError
 * TSA_BAD_RESPONSE or TSA_RESPONSE_MISMATCH.
 */
export async function checkTokenAnswers(
  token: Uint8Array,
  expected: { hashedMessage: Uint8Array; hashAlgorithmOid: string; nonce?: bigint; policy?: string },
  crypto?: Crypto,
): Promise<void> {
  let inspection;
  try {
    readDer(token); // strict DER, or the proof embedding it would not be DER
    inspection = await inspectTimeStampToken(token, crypto ? { crypto } : {});
  } catch (err) {
    if (err instanceof DerError) throw new TimeStampError('TSA_BAD_RESPONSE', `the time-stamp token is malformed: ${err.message}`, { cause: err });
    throw err;
  }
  // A token outside the profile (CadesProfile.ts) would make a proof the verifier refuses.
  for (const check of [inspection.versions, inspection.algorithms]) {
    if (!check.ok) throw new TimeStampError('TSA_BAD_RESPONSE', `the time-stamp token is outside the profile: ${check.detail}`);
  }
  for (const check of [inspection.signature, inspection.essBinding, inspection.usage]) {
    if (!check.ok) throw new TimeStampError('TSA_BAD_RESPONSE', `the time-stamp token does not verify: ${check.detail}`);
  }
  const info = inspection.tstInfo;
  if (info.messageImprint.hashAlgorithmOid !== expected.hashAlgorithmOid || !equalBytes(info.messageImprint.hashedMessage, expected.hashedMessage)) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', 'the time-stamp token is for another message imprint');
  }
  if (expected.nonce !== undefined && info.nonce !== expected.nonce) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', 'the time-stamp token does not carry the nonce sent');
  }
  if (expected.policy !== undefined && info.policy !== expected.policy) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', `the time-stamp token is under policy ${info.policy}, not ${expected.policy}`);
  }
}
