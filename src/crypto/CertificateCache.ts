/**
 * Certificates seen again and again: every proof carries the same sealing, TSA and root
 * certificates. Parsed views are kept by their DER (a bounded map; the oldest
 * entry goes first), each over a copy of the DER, so a cached view never keeps a whole proof
 * alive. Only successful parses are kept: a malformed certificate throws every time.
 */
import { parseCertificate, type CertificateView } from './Certificate.js';
import type { KnownDer } from './der.js';

const MAX_ENTRIES = 1000;
const views = new Map<string, CertificateView>();

/**
 * The key certificates are known by here: the DER itself as a latin1 string (one octet per
 * character; cheaper to make than a hash, and exact).
 */
export function certificateId(der: Uint8Array): string {
  return Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('latin1');
}

/** `parseCertificate` with a cache; throws DerError for anything that is not a certificate. */
export function parseCertificateCached(der: Uint8Array): CertificateView {
  const id = certificateId(der);
  let view = views.get(id);
  if (!view) {
    view = parseCertificate(Uint8Array.prototype.slice.call(der));
    if (views.size >= MAX_ENTRIES) views.delete(views.keys().next().value!);
    views.set(id, view);
    knownLengths.add(der.length);
  }
  return view;
}

/** The certificates parsed here (strict DER, read whole), for `readDer`'s `known` option. */
export const knownCertificates: KnownDer = {
  // the length first: most SEQUENCEs of a proof are not certificates, and a lookup by content costs a string
  has: (encoding) => knownLengths.has(encoding.length) && views.has(certificateId(encoding)),
};
const knownLengths = new Set<number>();

const numbers = new Map<string, number>();
let lastNumber = 0;

/**
 * A number standing for a certificate's DER: path cache keys are made of these rather than of
 * the octets. Numbers are never reused (a counter), so forgetting them — the map is emptied past
 * MAX_ENTRIES × 10 — can only make a cached path unreachable, never make it match other
 * certificates.
 */
export function certificateNumber(der: Uint8Array): number {
  const id = certificateId(der);
  let n = numbers.get(id);
  if (n === undefined) {
    if (numbers.size >= MAX_ENTRIES * 10) numbers.clear();
    n = ++lastNumber;
    numbers.set(id, n);
  }
  return n;
}
