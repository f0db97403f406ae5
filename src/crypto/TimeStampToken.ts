/**
 * The time-stamp token: a CMS SignedData over a TSTInfo (RFC 3161 §2.4.2).
 *
 * ```asn1
 * TimeStampToken ::= ContentInfo
 *   -- contentType id-signedData; eContentType id-ct-TSTInfo; eContent the DER TSTInfo
 * ```
 *
 * Its SignerInfo carries the signed attributes content-type (id-ct-TSTInfo), message-digest
 * and the ESS signing-certificate-v2 that RFC 3161 §2.4.1 (via RFC 5816) requires; without
 * the last, `openssl ts -verify` fails with "missing signing certificate attribute"
 * (docs/cades-profile.md, "Pitfalls a strict verifier catches"). The tokens are written by
 * TimeStampTokenTemplate.ts; this file reads and checks them.
 */
import { hashByOid } from './AlgorithmIdentifier.js';
import { algorithmName, algorithmProblems, certificateChoiceProblems, messageImprintProblems, profileOutcome, tstInfoVersionProblem, versionProblems } from './CadesProfile.js';
import { findExtension, type CertificateView } from './Certificate.js';
import { readExtendedKeyUsage, readKeyUsage } from './CertificateExtensions.js';
import { DerError, type DerNode } from './der.js';
import { OID } from './oids.js';
import { checkContentAttributes, checkSignerSignature, findSignerCertificate, parseSignedData, type Outcome, type SignedDataView } from './SignedData.js';
import { checkSigningCertificateBinding } from './SigningCertificateV2.js';
import { parseTSTInfo, type TSTInfo } from './TSTInfo.js';
import type { ReportBuilder } from './ValidationReport.js';

/**
 * RFC 3161 §2.3: the TSA certificate has exactly one extendedKeyUsage extension, critical,
 * with id-kp-timeStamping as its only purpose; a keyUsage, if present, must allow
 * digitalSignature or nonRepudiation and nothing else (as OpenSSL checks).
 */
export function checkTsaCertificateUsage(cert: CertificateView): Outcome {
  const ekus = cert.extensions.filter((e) => e.oid === OID.extKeyUsage);
  if (ekus.length !== 1) return { ok: false, detail: `the TSA certificate has ${ekus.length} extendedKeyUsage extensions; exactly one is required (RFC 3161 §2.3)` };
  const eku = ekus[0]!;
  let purposes: string[];
  try {
    purposes = readExtendedKeyUsage(eku);
  } catch {
    return { ok: false, detail: 'the TSA certificate extendedKeyUsage is malformed' };
  }
  if (purposes.length !== 1 || purposes[0] !== OID.kpTimeStamping) {
    return { ok: false, detail: 'the TSA certificate extendedKeyUsage must hold id-kp-timeStamping only (RFC 3161 §2.3)' };
  }
  if (!eku.critical) return { ok: false, detail: 'the TSA certificate extendedKeyUsage is not critical (RFC 3161 §2.3)' };
  const ku = findExtension(cert, OID.keyUsage);
  if (ku) {
    let usages;
    try {
      usages = readKeyUsage(ku);
    } catch {
      return { ok: false, detail: 'the TSA certificate keyUsage is malformed' };
    }
    const allowed = [...usages].every((u) => u === 'digitalSignature' || u === 'nonRepudiation');
    if (!allowed || usages.size === 0) return { ok: false, detail: 'the TSA certificate keyUsage must be digitalSignature and/or nonRepudiation' };
  }
  return { ok: true, detail: 'extendedKeyUsage is id-kp-timeStamping only, critical' };
}

export interface TimeStampTokenInspection {
  signedData: SignedDataView;
  /** Read whatever its version: `versions` says whether it is 1. */
  tstInfo: TSTInfo;
  /** SignedData, SignerInfo and TSTInfo versions (RFC 5652 §5.1, §5.3; RFC 3161 §2.4.2; CadesProfile.ts). */
  versions: Outcome;
  /** digestAlgorithms, digestAlgorithm, signatureAlgorithm against the TSA key, messageImprint (CadesProfile.ts). */
  algorithms: Outcome;
  /** The certificate the SignerInfo names, from the token or from `extraCertificates`. */
  tsaCertificate?: CertificateView;
  /** content-type, message-digest over the TSTInfo, and the signature (RFC 5652 §5.6). */
  signature: Outcome;
  /** The ESS signing-certificate(-v2) attribute identifies the TSA certificate (RFC 3161 §2.4.1, RFC 5816). */
  essBinding: Outcome;
  /** RFC 3161 §2.3. */
  usage: Outcome;
}

/**
 * Parses a TimeStampToken and checks it cryptographically (not its certificate path, which
 * needs trust anchors) and against the profile (CadesProfile.ts). Throws DerError when it is
 * not a well-formed DER token.
 */
export async function inspectTimeStampToken(
  token: Uint8Array | DerNode,
  options: { extraCertificates?: readonly Uint8Array[]; crypto?: Crypto } = {},
): Promise<TimeStampTokenInspection> {
  const signedData = parseSignedData(token);
  if (signedData.eContentType !== OID.tstInfo) throw new DerError('TimeStampToken: eContentType is not id-ct-TSTInfo');
  if (!signedData.eContent) throw new DerError('TimeStampToken: no TSTInfo');
  if (signedData.signerInfos.length !== 1) throw new DerError('TimeStampToken: exactly one SignerInfo required (RFC 3161 §2.4.2)');
  const choices = certificateChoiceProblems(signedData, 'the token\'s');
  if (choices.length) throw new DerError(choices.join('; '));
  const tstInfo = parseTSTInfo(signedData.eContent, { anyVersion: true });
  const signerInfo = signedData.signerInfos[0]!;
  const tsaCertificate = findSignerCertificate([...signedData.certificates, ...(options.extraCertificates ?? [])], signerInfo.sid);
  const tstVersion = tstInfoVersionProblem(tstInfo);
  const versions = profileOutcome([...versionProblems(signedData, 'the token\'s'), ...(tstVersion ? [tstVersion] : [])], `SignedData v${signedData.version}, SignerInfo v${signerInfo.version}, TSTInfo v${tstInfo.version}`);
  const algorithms = profileOutcome(
    [...algorithmProblems(signedData, signerInfo, tsaCertificate?.publicKey, 'the token\'s'), ...messageImprintProblems(tstInfo.messageImprint)],
    `digest ${algorithmName(signerInfo.digestAlgorithm)}, signature ${algorithmName(signerInfo.signatureAlgorithm)}${tsaCertificate ? ` (${tsaCertificate.publicKey.family} key)` : ''}, imprint ${hashByOid(tstInfo.messageImprint.hashAlgorithmOid)}`,
  );
  if (!tsaCertificate) {
    const missing = { ok: false, detail: 'the TSA certificate is neither in the token nor among the certificates given' } as const;
    return { signedData, tstInfo, versions, algorithms, signature: missing, essBinding: missing, usage: missing };
  }
  let signature = checkContentAttributes(signerInfo, OID.tstInfo, signedData.eContent);
  if (signature.ok) signature = await checkSignerSignature(signerInfo, tsaCertificate, options.crypto);
  const ess = checkSigningCertificateBinding(signerInfo.signedAttrs?.attributes ?? [], tsaCertificate);
  return {
    signedData,
    tstInfo,
    versions,
    algorithms,
    tsaCertificate,
    signature,
    essBinding: { ok: ess.bound, detail: ess.detail },
    usage: checkTsaCertificateUsage(tsaCertificate),
  };
}

/**
 * The report lines an inspection decides, in the report's order: TIMESTAMP_VERSION and
 * TIMESTAMP_ALGORITHMS (the profile, CadesProfile.ts), TIMESTAMP_SIGNATURE (RFC 3161 §2.4.2,
 * RFC 5652 §5.4–5.6), TIMESTAMP_ESS_BINDING (RFC 3161 §2.4.1, RFC 5816) and
 * TSA_CERTIFICATE_USAGE (RFC 3161 §2.3). For a proof's token and a stand-alone one alike.
 */
export function reportTokenInspection(report: ReportBuilder, token: TimeStampTokenInspection): void {
  if (token.versions.ok) report.pass('TIMESTAMP_VERSION', token.versions.detail);
  else report.fail('TIMESTAMP_VERSION', 'FORMAT_FAILURE', token.versions.detail);
  if (token.algorithms.ok) report.pass('TIMESTAMP_ALGORITHMS', token.algorithms.detail);
  else report.fail('TIMESTAMP_ALGORITHMS', 'FORMAT_FAILURE', token.algorithms.detail);

  if (!token.tsaCertificate) report.fail('TIMESTAMP_SIGNATURE', 'TSA_CERTIFICATE_INVALID', token.signature.detail);
  else if (token.signature.ok) report.pass('TIMESTAMP_SIGNATURE', `time-stamp token ${token.signature.detail}`);
  else report.fail('TIMESTAMP_SIGNATURE', 'SIG_CRYPTO_FAILURE', `time-stamp token: ${token.signature.detail}`);

  if (token.essBinding.ok) report.pass('TIMESTAMP_ESS_BINDING', token.essBinding.detail);
  else report.fail('TIMESTAMP_ESS_BINDING', 'TSA_CERTIFICATE_INVALID', token.essBinding.detail);

  if (token.usage.ok) report.pass('TSA_CERTIFICATE_USAGE', token.usage.detail);
  else report.fail('TSA_CERTIFICATE_USAGE', 'TSA_CERTIFICATE_INVALID', token.usage.detail);
}

export interface TimeStampTokenInfo extends TSTInfo {
  /** The TSA certificate, when the token carries it. */
  tsaCertificate?: Uint8Array;
}

/**
 * Reads a TimeStampToken's TSTInfo without checking anything cryptographic (use
 * `verifyTimeStampToken` or `verifyCadesT` for that). Throws DerError when malformed.
 */
export function parseTimeStampToken(token: Uint8Array): TimeStampTokenInfo {
  const signedData = parseSignedData(token);
  if (signedData.eContentType !== OID.tstInfo || !signedData.eContent) throw new DerError('TimeStampToken: no id-ct-TSTInfo content');
  if (signedData.signerInfos.length !== 1) throw new DerError('TimeStampToken: exactly one SignerInfo required (RFC 3161 §2.4.2)');
  const tstInfo = parseTSTInfo(signedData.eContent);
  const cert = findSignerCertificate(signedData.certificates, signedData.signerInfos[0]!.sid);
  return { ...tstInfo, ...(cert ? { tsaCertificate: cert.der } : {}) };
}
