/**
 * Certification path validation (RFC 5280 §6) at a given time, with pkijs'
 * CertificateChainValidationEngine: signatures, validity periods, name chaining, CA
 * constraints, ending at one of the trust anchors. No revocation data is consulted here: CRLs
 * are checked after the path, on lines of their own (Revocation.ts, docs/revocation.md).
 */
import type * as pkijs from 'pkijs';
import { certificateNumber, parseCertificateCached } from './CertificateCache.js';
import { findExtension, type CertificateView } from './Certificate.js';
import { equalBytes } from './der.js';
import { OID } from './oids.js';
import { loadPkijs, pkijsEngine } from './engine.js';

export type PathOutcome =
  | { valid: true; detail: string }
  | {
      valid: false;
      /** NO_PATH: no path to an anchor; OUT_OF_VALIDITY: a certificate of the path is expired or not yet valid; CONSTRAINTS: a path exists but breaks a constraint. */
      reason: 'NO_PATH' | 'OUT_OF_VALIDITY' | 'CONSTRAINTS';
      detail: string;
    };

/** pkijs ChainValidationCode / resultCode values that mean "constraints", not "no path". */
const CONSTRAINT_CODES = new Set([3, 4, 5, 6, 7, 10, 14, 21, 41, 42]);
const VALIDITY_CODE = 8;

function toPkijs(der: Uint8Array): pkijs.Certificate | undefined {
  try {
    return loadPkijs().Certificate.fromBER(new Uint8Array(der));
  } catch {
    return undefined;
  }
}

/**
 * Paths found valid, by leaf + candidates + anchors (their DER), with the time
 * window in which every certificate of the path is valid. Signatures, names and constraints
 * do not depend on the time (no revocation data is consulted), so the same path is valid at
 * any time inside that window; outside it, or for a failed validation, pkijs runs again.
 */
interface ValidPath {
  notBefore: number;
  notAfter: number;
  length: number;
}
const validPaths = new Map<string, ValidPath>();
const MAX_PATHS = 1000;

function pathKey(leaf: Uint8Array, candidates: readonly Uint8Array[], trustAnchors: readonly Uint8Array[]): string {
  const ids = (list: readonly Uint8Array[]) => [...new Set(list.map(certificateNumber))].sort((a, b) => a - b).join(',');
  return `${certificateNumber(leaf)}|${ids(candidates)}|${ids(trustAnchors)}`;
}

/**
 * The candidates that may stand between the leaf and an anchor: certificates (by the strict
 * reader) other than the leaf, without any that names a trust anchor or carries its key — the
 * same subject, subjectKeyIdentifier or SubjectPublicKeyInfo. The anchor given takes that
 * place in a path; a certificate of the proof that claims it (the proof's own copy of the
 * root, or an altered copy) would be tried as well, and pkijs does not fall back to the anchor
 * when a path through it fails: a flipped bit in the proof's unsigned copy of the root made a
 * genuine proof INDETERMINATE (scripts/fuzz-verify.ts).
 */
function pathCandidates(leaf: Uint8Array, candidates: readonly Uint8Array[], trustAnchors: readonly Uint8Array[]): Uint8Array[] {
  const claims = (c: CertificateView) => [c.subject, c.publicKey.der, findExtension(c, OID.subjectKeyIdentifier)?.value];
  const anchorClaims = trustAnchors.flatMap((a) => {
    try {
      return [claims(parseCertificateCached(a))];
    } catch {
      return [];
    }
  });
  const same = (x: Uint8Array | undefined, y: Uint8Array | undefined) => x !== undefined && y !== undefined && equalBytes(x, y);
  return candidates.filter((c) => {
    if (equalBytes(c, leaf)) return false;
    try {
      const mine = claims(parseCertificateCached(c));
      return !anchorClaims.some((anchor) => anchor.some((claim, i) => same(claim, mine[i])));
    } catch {
      return false; // not a certificate: it cannot be in a path
    }
  });
}

export interface PathValidationOptions {
  /** Reuse a path validated before, when `at` is inside its validity window (default true). */
  cache?: boolean;
}

const validDetail = (length: number, at: Date) => `path of ${length} certificates to a trust anchor, valid at ${at.toISOString()}`;

export async function validateCertificatePath(
  leaf: Uint8Array,
  candidates: readonly Uint8Array[],
  trustAnchors: readonly Uint8Array[],
  at: Date,
  crypto?: Crypto,
  options: PathValidationOptions = {},
): Promise<PathOutcome> {
  const leafView = parseCertificateCached(leaf);
  if (leafView.notBefore > at || leafView.notAfter < at) {
    return {
      valid: false,
      reason: 'OUT_OF_VALIDITY',
      detail: `the certificate is valid from ${leafView.notBefore.toISOString()} to ${leafView.notAfter.toISOString()}, not at ${at.toISOString()}`,
    };
  }
  const useCache = options.cache !== false;
  const key = useCache ? pathKey(leaf, candidates, trustAnchors) : '';
  if (useCache) {
    const hit = validPaths.get(key);
    const t = at.getTime();
    if (hit && t >= hit.notBefore && t <= hit.notAfter) return { valid: true, detail: validDetail(hit.length, at) };
  }
  const anchors = trustAnchors.map(toPkijs).filter((c): c is pkijs.Certificate => c !== undefined);
  if (anchors.length === 0) return { valid: false, reason: 'NO_PATH', detail: 'no usable (DER X.509) trust anchor was given' };
  const leafCert = toPkijs(leaf);
  if (!leafCert) return { valid: false, reason: 'NO_PATH', detail: 'the certificate cannot be parsed for path validation' };
  const others = pathCandidates(leaf, candidates, trustAnchors)
    .map(toPkijs)
    .filter((c): c is pkijs.Certificate => c !== undefined);
  // pkijs takes the last certificate of `certs` as the one to validate.
  const engine = new (loadPkijs().CertificateChainValidationEngine)({ trustedCerts: anchors, certs: [...others, leafCert], checkDate: at });
  let result: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    result = await engine.verify({}, pkijsEngine(crypto));
  } catch (err) {
    return { valid: false, reason: 'NO_PATH', detail: `path validation failed: ${(err as Error).message}` };
  }
  if (result.result) {
    const path = result.certificatePath ?? [];
    if (useCache && path.length > 0) {
      const notBefore = Math.max(...path.map((c) => c.notBefore.value.getTime()));
      const notAfter = Math.min(...path.map((c) => c.notAfter.value.getTime()));
      if (validPaths.size >= MAX_PATHS) validPaths.delete(validPaths.keys().next().value!);
      validPaths.set(key, { notBefore, notAfter, length: path.length });
    }
    return { valid: true, detail: validDetail(path.length, at) };
  }
  const code = Number(result.resultCode);
  const reason = code === VALIDITY_CODE ? 'OUT_OF_VALIDITY' : CONSTRAINT_CODES.has(code) ? 'CONSTRAINTS' : 'NO_PATH';
  return { valid: false, reason, detail: `${result.resultMessage || 'no valid path'} (at ${at.toISOString()})` };
}
