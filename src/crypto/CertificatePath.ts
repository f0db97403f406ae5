/**
 * Certification path validation (RFC 5280 §6) at a given time, with pkijs'
 * CertificateChainValidationEngine: signatures, validity periods, name chaining, CA
 * constraints, ending at one of the trust anchors. No revocation data is consulted (the dev
 * PKI publishes none; a qualified deployment adds OCSP/CRL evidence later).
 */
import * as pkijs from 'pkijs';
import { parseCertificate } from './Certificate.js';
import { pkijsEngine } from './engine.js';

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
    return pkijs.Certificate.fromBER(new Uint8Array(der));
  } catch {
    return undefined;
  }
}

export async function validateCertificatePath(
  leaf: Uint8Array,
  candidates: readonly Uint8Array[],
  trustAnchors: readonly Uint8Array[],
  at: Date,
  crypto?: Crypto,
): Promise<PathOutcome> {
  const leafView = parseCertificate(leaf);
  if (leafView.notBefore > at || leafView.notAfter < at) {
    return {
      valid: false,
      reason: 'OUT_OF_VALIDITY',
      detail: `the certificate is valid from ${leafView.notBefore.toISOString()} to ${leafView.notAfter.toISOString()}, not at ${at.toISOString()}`,
    };
  }
  const anchors = trustAnchors.map(toPkijs).filter((c): c is pkijs.Certificate => c !== undefined);
  if (anchors.length === 0) return { valid: false, reason: 'NO_PATH', detail: 'no usable (DER X.509) trust anchor was given' };
  const leafCert = toPkijs(leaf);
  if (!leafCert) return { valid: false, reason: 'NO_PATH', detail: 'the certificate cannot be parsed for path validation' };
  const others = candidates
    .filter((c) => c.length !== leaf.length || c.some((b, i) => b !== leaf[i]))
    .map(toPkijs)
    .filter((c): c is pkijs.Certificate => c !== undefined);
  // pkijs takes the last certificate of `certs` as the one to validate.
  const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: anchors, certs: [...others, leafCert], checkDate: at });
  let result: pkijs.CertificateChainValidationEngineVerifyResult;
  try {
    result = await engine.verify({}, pkijsEngine(crypto));
  } catch (err) {
    return { valid: false, reason: 'NO_PATH', detail: `path validation failed: ${(err as Error).message}` };
  }
  if (result.result) {
    const length = result.certificatePath?.length ?? 0;
    return { valid: true, detail: `path of ${length} certificates to a trust anchor, valid at ${at.toISOString()}` };
  }
  const code = Number(result.resultCode);
  const reason = code === VALIDITY_CODE ? 'OUT_OF_VALIDITY' : CONSTRAINT_CODES.has(code) ? 'CONSTRAINTS' : 'NO_PATH';
  return { valid: false, reason, detail: `${result.resultMessage || 'no valid path'} (at ${at.toISOString()})` };
}
