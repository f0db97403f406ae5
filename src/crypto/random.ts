/**
 * Random positive integers for certificate serial numbers (RFC 5280 §4.1.2.2), time-stamp
 * serial numbers and nonces (RFC 3161 §2.4.1–2). The top bit is cleared so the DER INTEGER
 * stays positive without a padding octet, and zero is never returned
 * (docs/cades-profile.md, "Pitfalls a strict verifier catches").
 */
import { randomBytes } from 'node:crypto';
import { bytesToBigInt } from './der.js';

export function randomPositiveInteger(octets: number): bigint {
  for (;;) {
    const bytes = new Uint8Array(randomBytes(octets));
    bytes[0]! &= 0x7f;
    const v = bytesToBigInt(bytes);
    if (v !== 0n) return v;
  }
}
