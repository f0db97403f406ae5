/**
 * Validation of a CAdES-B-T or B-LT proof (ETSI EN 319 122-1 baseline B-T, B-LT; the validation model of
 * ETSI EN 319 102-1 as EU DSS applies it), one named line per check:
 *
 * | line | what | failing sub-indication |
 * | --- | --- | --- |
 * | DER_ENCODING | every TLV is DER (X.690 §10–11): re-encoding gives the same octets | FORMAT_FAILURE |
 * | CMS_STRUCTURE | ContentInfo/SignedData with one SignerInfo (RFC 5652 §3, §5); X.509 certificates and CRLs only (§10.2); content enveloped | FORMAT_FAILURE, SIGNED_DATA_NOT_FOUND |
 * | CMS_VERSION | SignedData.version as §5.1 derives it from the content (1 for a proof), SignerInfo.version fits its sid (§5.3) | FORMAT_FAILURE |
 * | CMS_ALGORITHMS | SignerInfo.digestAlgorithm SHA-256/384/512, parameters absent or NULL (RFC 5754 §2); digestAlgorithms = exactly that one (RFC 5652 §5.1); signatureAlgorithm fits the signer's key and digest, ECDSA parameters absent (RFC 5758 §3.2), RSA parameters NULL (RFC 3370 §3.2, RFC 4055 §5) | FORMAT_FAILURE |
 * | SIGNED_ATTRIBUTES | content-type = eContentType, message-digest, signing-time, each once (RFC 5652 §11; EN 319 122-1 §5.2.1) | FORMAT_FAILURE |
 * | SIGNING_CERTIFICATE | the certificate the SignerInfo names is in `certificates` (RFC 5652 §5.3) | NO_SIGNING_CERTIFICATE_FOUND |
 * | SIGNING_CERTIFICATE_V2_BINDING | ESS signing-certificate-v2 hash = SHA-256 of that certificate (RFC 5035 §3) | NO_SIGNING_CERTIFICATE_FOUND |
 * | MESSAGE_DIGEST | message-digest = SHA-256(eContent) (RFC 5652 §11.2) | HASH_FAILURE |
 * | SIGNATURE | the signature over the DER signed attributes (RFC 5652 §5.4) | SIG_CRYPTO_FAILURE |
 * | CERTIFICATE_CHAIN | path to a trust anchor, valid at `at` or else genTime (RFC 5280 §6) | NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE, CHAIN_CONSTRAINTS_FAILURE |
 * | TIMESTAMP_PRESENT | a signature-time-stamp unsigned attribute (EN 319 122-1 §5.3) | TIMESTAMP_MISSING |
 * | TIMESTAMP_VERSION | the token's SignedData.version (RFC 5652 §5.1: 3 for id-ct-TSTInfo) and SignerInfo.version (§5.3); TSTInfo.version = 1 (RFC 3161 §2.4.2) | FORMAT_FAILURE |
 * | TIMESTAMP_ALGORITHMS | the token's digestAlgorithms, digestAlgorithm and signatureAlgorithm against the TSA key, as CMS_ALGORITHMS; messageImprint hashAlgorithm SHA-256/384/512 with parameters absent or NULL and a hashedMessage of its length (RFC 3161 §2.4.2) | FORMAT_FAILURE |
 * | TIMESTAMP_SIGNATURE | the token's content-type, message-digest and signature (RFC 3161 §2.4.2) | SIG_CRYPTO_FAILURE, FORMAT_FAILURE, TSA_CERTIFICATE_INVALID |
 * | TIMESTAMP_ESS_BINDING | the token's ESS signing-certificate(-v2) names the TSA certificate | TSA_CERTIFICATE_INVALID |
 * | TSA_CERTIFICATE_USAGE | extendedKeyUsage timeStamping only, critical (RFC 3161 §2.3) | TSA_CERTIFICATE_INVALID |
 * | TSA_CERTIFICATE_CHAIN | the TSA certificate's path, as for the signer | TSA_CERTIFICATE_INVALID |
 * | TIMESTAMP_IMPRINT | imprint = hash of the signature OCTET STRING contents | TIMESTAMP_IMPRINT_MISMATCH |
 * | TIMESTAMP_ORDER | genTime ≥ signing-time | TIMESTAMP_ORDER_FAILURE |
 * | REVOCATION | only with CRLs given (`crls`) or CRLs and OCSP answers carried in the proof (B-LT): the signer certificate against them; revoked after the time-stamp's genTime passes; carried data in force at the POE suffices (docs/revocation.md) | REVOKED, REVOKED_NO_POE, TRY_LATER |
 * | TSA_REVOCATION | likewise for the TSA certificate (RFC 3161 §4 on revoked TSA keys) | REVOKED, REVOKED_NO_POE, TRY_LATER |
 *
 * The profile lines are CadesProfile.ts (docs/cades-profile.md). What the verifier reads but
 * does not check: certificates in `certificates` that no path uses (an extra, a second copy of
 * a trust anchor), CRLs in `crls` of no issuer it checks, unsigned attributes other than the
 * signature-time-stamp, and signature-time-stamp tokens after the first.
 *
 * See ValidationReport.ts for how the lines make the indication. Never throws: malformed
 * input of any kind (random bytes, truncated DER, PEM, deep nesting) gives TOTAL_FAILED /
 * FORMAT_FAILURE.
 */
import { digest, hashByOid } from './AlgorithmIdentifier.js';
import { algorithmName, algorithmProblems, certificateChoiceProblems, versionProblems } from './CadesProfile.js';
import { findExtension, subjectString, type CertificateView } from './Certificate.js';
import { readKeyUsage } from './CertificateExtensions.js';
import { knownCertificates, parseCertificateCached } from './CertificateCache.js';
import { validateCertificatePath, type PathOutcome } from './CertificatePath.js';
import { CRL_REASONS, parseCrl, type CrlView } from './Crl.js';
import { revocationStatusFrom, type RevocationStatus } from './Revocation.js';
import { parseOcspResponse, type OcspResponseView } from './Ocsp.js';
import { DerError, equalBytes, readDer, readOid, readTime } from './der.js';
import { OID } from './oids.js';
import { singleAttributeValue } from './SignedAttributes.js';
import { checkContentAttributes, checkSignerSignature, findSignerCertificate, parseSignedData, type SignedDataView, type SignerInfoView } from './SignedData.js';
import { checkSigningCertificateBinding } from './SigningCertificateV2.js';
import { inspectTimeStampToken, reportTokenInspection, type TimeStampTokenInspection } from './TimeStampToken.js';
import { ReportBuilder, type SubIndication, type VerificationReport } from './ValidationReport.js';

export interface VerifyOptions {
  /** DER root certificates. */
  trustAnchors: Uint8Array[];
  /** Validate certificate paths at this time instead of the time-stamp's genTime. */
  at?: Date;
  /** Signatures are checked with node's native crypto unless a `crypto` is injected. */
  crypto?: Crypto;
  /**
   * Reuse certification paths validated before (CertificatePath.ts; default true): the same
   * sealing and TSA certificates appear in every proof.
   */
  pathCache?: boolean;
  /**
   * DER CRLs (RFC 5280 §5) to check the signer and TSA certificates against. Without any, no
   * revocation line is written and nothing else changes. Unparseable ones are ignored.
   */
  crls?: Uint8Array[];
}

export async function verifyCadesT(proof: Uint8Array, options: VerifyOptions): Promise<VerificationReport> {
  const report = new ReportBuilder();
  try {
    await verify(proof, { ...options, trustAnchors: Array.isArray(options?.trustAnchors) ? options.trustAnchors : [] }, report);
  } catch (err) {
    // A defect here must not turn into an exception for the caller; the line says what happened.
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', `validation stopped: ${err instanceof Error ? err.message : String(err)}`);
  }
  return report.report();
}

async function verify(proof: Uint8Array, options: VerifyOptions, report: ReportBuilder): Promise<void> {
  // DER_ENCODING — X.690 §10–11, whole proof (certificates and token included).
  if (!(proof instanceof Uint8Array)) {
    report.fail('DER_ENCODING', 'FORMAT_FAILURE', 'the proof is not a byte array');
    return;
  }
  let root;
  try {
    // Certificates read before (the same ones are in every proof) are not walked again.
    root = readDer(proof, { known: knownCertificates });
  } catch (err) {
    const pem = proof.length > 10 && new TextDecoder().decode(proof.subarray(0, 10)).startsWith('-----');
    report.fail('DER_ENCODING', 'FORMAT_FAILURE', pem ? 'the proof is PEM text; DER is expected' : `not DER: ${(err as Error).message}`);
    return;
  }
  report.pass('DER_ENCODING', `all ${proof.length} octets are DER (definite minimal lengths, primitive strings, sorted SET OF)`);

  // CMS_STRUCTURE — RFC 5652 §3, §5.
  let sd: SignedDataView;
  try {
    sd = parseSignedData(root);
  } catch (err) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', (err as Error).message);
    return;
  }
  if (sd.signerInfos.length !== 1) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', `${sd.signerInfos.length} SignerInfos; a proof has exactly one`);
    return;
  }
  const si = sd.signerInfos[0]!;
  if (!si.signedAttrs) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', 'the SignerInfo has no signed attributes (CAdES requires them)');
    return;
  }
  const choices = certificateChoiceProblems(sd, 'the proof\'s');
  if (choices.length) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', choices.join('; '));
  } else if (!sd.eContent) {
    report.fail('CMS_STRUCTURE', 'SIGNED_DATA_NOT_FOUND', 'the content is detached; a proof envelops it');
  } else {
    report.facts.content = sd.eContent;
    report.pass('CMS_STRUCTURE', `SignedData v${sd.version}, one SignerInfo, ${sd.certificates.length} certificates, ${sd.eContent.length}-octet ${sd.eContentType === OID.data ? 'id-data' : sd.eContentType} content`);
  }

  // CMS_VERSION — RFC 5652 §5.1 (SignedData), §5.3 (SignerInfo).
  const versions = versionProblems(sd, 'the proof\'s');
  if (versions.length) report.fail('CMS_VERSION', 'FORMAT_FAILURE', versions.join('; '));
  else report.pass('CMS_VERSION', `SignedData v${sd.version}, SignerInfo v${si.version} with ${'issuer' in si.sid ? 'issuerAndSerialNumber' : 'subjectKeyIdentifier'} (RFC 5652 §5.1, §5.3)`);

  // SIGNED_ATTRIBUTES — RFC 5652 §11.1–11.3, ETSI EN 319 122-1 §5.2.1.
  checkSignedAttributes(sd, si, report);

  // SIGNING_CERTIFICATE — RFC 5652 §5.3 sid.
  const signer = findSignerCertificate(sd.certificates, si.sid);

  // CMS_ALGORITHMS — RFC 5652 §5.1, RFC 5754 §2–3, RFC 5758 §3.2, RFC 3370 §3.2, RFC 4055 §5; the key type when the signer is known.
  const algorithms = algorithmProblems(sd, si, signer?.publicKey, 'the proof\'s');
  if (algorithms.length) report.fail('CMS_ALGORITHMS', 'FORMAT_FAILURE', algorithms.join('; '));
  else report.pass('CMS_ALGORITHMS', `digestAlgorithms {${sd.digestAlgorithms.map(algorithmName).join(', ')}}, digest ${algorithmName(si.digestAlgorithm)}, signature ${algorithmName(si.signatureAlgorithm)}${signer ? ` (${signer.publicKey.family} key)` : ''}`);
  if (signer) {
    report.facts.signerSubject = subjectString(signer);
    report.pass('SIGNING_CERTIFICATE', `signer certificate found: ${report.facts.signerSubject}`);
    // SIGNING_CERTIFICATE_V2_BINDING — RFC 5035 §3.
    const binding = checkSigningCertificateBinding(si.signedAttrs.attributes, signer);
    if (binding.bound) report.pass('SIGNING_CERTIFICATE_V2_BINDING', binding.detail);
    else report.fail('SIGNING_CERTIFICATE_V2_BINDING', 'NO_SIGNING_CERTIFICATE_FOUND', binding.detail);
  } else {
    report.fail('SIGNING_CERTIFICATE', 'NO_SIGNING_CERTIFICATE_FOUND', 'no certificate in the proof matches the SignerInfo sid');
    report.fail('SIGNING_CERTIFICATE_V2_BINDING', 'NO_SIGNING_CERTIFICATE_FOUND', 'not evaluated: no signer certificate');
  }

  // MESSAGE_DIGEST — RFC 5652 §11.2.
  if (sd.eContent) {
    const md = checkContentAttributes(si, sd.eContentType, sd.eContent);
    if (md.ok) report.pass('MESSAGE_DIGEST', md.detail);
    else report.fail('MESSAGE_DIGEST', 'HASH_FAILURE', md.detail);
  } else {
    report.fail('MESSAGE_DIGEST', 'SIGNED_DATA_NOT_FOUND', 'not evaluated: no enveloped content');
  }

  // SIGNATURE — RFC 5652 §5.4–5.6.
  if (signer) {
    const sig = await checkSignerSignature(si, signer, options.crypto);
    if (sig.ok) report.pass('SIGNATURE', sig.detail);
    else report.fail('SIGNATURE', 'SIG_CRYPTO_FAILURE', sig.detail);
  } else {
    report.fail('SIGNATURE', 'NO_SIGNING_CERTIFICATE_FOUND', 'not evaluated: no signer certificate');
  }

  // TIMESTAMP_* — ETSI EN 319 122-1 §5.3, RFC 3161.
  const token = await checkTimeStamp(sd, si, options, report);
  const genTime = token?.tstInfo.genTime;
  const at = options.at ?? genTime ?? new Date();

  // CERTIFICATE_CHAIN — RFC 5280 §6 at `at`, or genTime (the time-stamp is the proof of existence).
  if (signer) {
    const path = await validateCertificatePath(signer.der, sd.certificates, options.trustAnchors, at, options.crypto, { cache: options.pathCache !== false });
    const usage = signerUsageProblem(signer);
    if (!path.valid) report.fail('CERTIFICATE_CHAIN', chainSubIndication(path), path.detail);
    else if (usage) report.fail('CERTIFICATE_CHAIN', 'CHAIN_CONSTRAINTS_FAILURE', usage);
    else report.pass('CERTIFICATE_CHAIN', path.detail);
  } else {
    report.fail('CERTIFICATE_CHAIN', 'NO_SIGNING_CERTIFICATE_FOUND', 'not evaluated: no signer certificate');
  }

  if (token?.tsaCertificate) {
    const path = await validateCertificatePath(token.tsaCertificate.der, [...token.signedData.certificates, ...sd.certificates], options.trustAnchors, at, options.crypto, {
      cache: options.pathCache !== false,
    });
    if (path.valid) report.pass('TSA_CERTIFICATE_CHAIN', path.detail);
    else report.fail('TSA_CERTIFICATE_CHAIN', 'TSA_CERTIFICATE_INVALID', path.detail);
  } else if (token) {
    report.fail('TSA_CERTIFICATE_CHAIN', 'TSA_CERTIFICATE_INVALID', 'not evaluated: no TSA certificate');
  }

  // REVOCATION, TSA_REVOCATION — only with revocation data: CRLs given, or carried in the
  // proof's SignedData.crls (CAdES-B-LT; docs/revocation.md).
  const data: RevocationData = { given: parseCrls(options.crls), carried: parseCrls(sd.crls), ocsp: parseOcspResponses(sd.ocspResponses) };
  if (data.given.length + data.carried.length + data.ocsp.length > 0) await checkRevocation(signer, token, sd, data, options, report);
}

function parseOcspResponses(list: Uint8Array[]): OcspResponseView[] {
  return list.flatMap((der) => {
    try {
      return [parseOcspResponse(der)];
    } catch {
      return [];
    }
  });
}

function parseCrls(list: Uint8Array[] | undefined): CrlView[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((der) => {
    try {
      return [parseCrl(der)];
    } catch {
      return [];
    }
  });
}

/** Lines whose failure means the time-stamp is no proof of existence. */
const TIMESTAMP_LINES = ['TIMESTAMP_PRESENT', 'TIMESTAMP_VERSION', 'TIMESTAMP_ALGORITHMS', 'TIMESTAMP_SIGNATURE', 'TIMESTAMP_ESS_BINDING', 'TSA_CERTIFICATE_USAGE', 'TSA_CERTIFICATE_CHAIN', 'TIMESTAMP_IMPRINT', 'TSA_REVOCATION'] as const;

/** RFC 3161 §4: tokens of a TSA key revoked for these reasons cannot be trusted, whenever made. */
const COMPROMISE = new Set<number>([CRL_REASONS.keyCompromise, CRL_REASONS.cACompromise, CRL_REASONS.aACompromise]);

/**
 * The status of `cert` at `at` from every CRL (given and carried); when that is unknown and
 * `poe` is set, the status at `poe` from the CRLs carried in the proof — the revocation data
 * the sealer gathered after the time-stamp (docs/revocation.md): a certificate shown unrevoked
 * at the proof of existence by a CRL in force then needs nothing newer, a revocation after
 * the proof of existence does not touch the signature.
 */
async function statusWithCarried(
  cert: CertificateView,
  issuers: readonly CertificateView[],
  data: RevocationData,
  at: Date,
  poe: Date | undefined,
  crypto: Crypto | undefined,
): Promise<RevocationStatus> {
  const status = await revocationStatusFrom(cert, issuers, { crls: [...data.given, ...data.carried], ocsp: data.ocsp }, at, crypto);
  if (status.status !== 'unknown' || !poe || data.carried.length + data.ocsp.length === 0) return status;
  const then = await revocationStatusFrom(cert, issuers, { crls: data.carried, ocsp: data.ocsp }, poe, crypto);
  if (then.status !== 'good') return status;
  return { ...then, detail: `not revoked at the time-stamp's genTime ${poe.toISOString()} by the revocation data carried in the proof: ${then.detail.replace(/^not revoked: /, '')}` };
}

/** Revocation data for the verifier: CRLs given (`--crl`), CRLs and OCSP responses carried in the proof. */
interface RevocationData {
  given: CrlView[];
  carried: CrlView[];
  ocsp: OcspResponseView[];
}

async function checkRevocation(
  signer: CertificateView | undefined,
  token: TimeStampTokenInspection | undefined,
  sd: SignedDataView,
  crls: RevocationData,
  options: VerifyOptions,
  report: ReportBuilder,
): Promise<void> {
  // The validation time: --at, or now (ETSI EN 319 102-1: the current time).
  const at = options.at ?? new Date();
  const certs = (list: readonly Uint8Array[]) =>
    list.flatMap((der) => {
      try {
        return [parseCertificateCached(der)];
      } catch {
        return [];
      }
    });
  const issuers = certs([...options.trustAnchors, ...sd.certificates, ...(token?.signedData.certificates ?? [])]);
  const genTime = token?.tstInfo.genTime;

  if (token?.tsaCertificate && genTime) {
    // genTime is the token's own claim: the TSA certificate is judged at it, as RFC 3161 §4 does
    const tsa = await statusWithCarried(token.tsaCertificate, issuers, crls, at, genTime, options.crypto);
    if (tsa.status === 'good') report.pass('TSA_REVOCATION', tsa.detail);
    else if (tsa.status === 'unknown') report.fail('TSA_REVOCATION', 'TRY_LATER', tsa.detail);
    else if (tsa.entry.revocationDate.getTime() <= genTime.getTime()) {
      report.fail('TSA_REVOCATION', 'REVOKED', `${tsa.detail}: the token's genTime ${genTime.toISOString()} is not before it`);
    } else if (tsa.entry.reasonCode !== undefined && COMPROMISE.has(tsa.entry.reasonCode)) {
      report.fail('TSA_REVOCATION', 'REVOKED_NO_POE', `${tsa.detail}: no proof that the token existed before the revocation (genTime is the compromised key's own claim, RFC 3161 §4)`);
    } else {
      report.pass('TSA_REVOCATION', `${tsa.detail}, after the token's genTime ${genTime.toISOString()}: tokens made before remain valid (RFC 3161 §4)`);
    }
  }

  if (!signer) return;
  // The time-stamp is the proof of existence (POE) of the signature when it holds.
  const poe = genTime && !report.hasFailed(TIMESTAMP_LINES) ? genTime : undefined;
  const status = await statusWithCarried(signer, issuers, crls, at, poe, options.crypto);
  if (status.status === 'good') {
    report.pass('REVOCATION', status.detail);
    return;
  }
  if (status.status === 'unknown') {
    report.fail('REVOCATION', 'TRY_LATER', status.detail);
    return;
  }
  const revokedAt = status.entry.revocationDate;
  if (!poe) report.fail('REVOCATION', 'REVOKED_NO_POE', `${status.detail}; no valid time-stamp proves the signature existed before`);
  else if (poe.getTime() < revokedAt.getTime()) report.pass('REVOCATION', `${status.detail}, after the time-stamp's genTime ${poe.toISOString()}: the signature existed before the revocation`);
  else report.fail('REVOCATION', 'REVOKED', `${status.detail}, not after the time-stamp's genTime ${poe.toISOString()}`);
}

function checkSignedAttributes(sd: SignedDataView, si: SignerInfoView, report: ReportBuilder): void {
  const attrs = si.signedAttrs!.attributes;
  try {
    const ct = singleAttributeValue(attrs, OID.contentType, 'signedAttrs');
    const md = singleAttributeValue(attrs, OID.messageDigest, 'signedAttrs');
    const st = singleAttributeValue(attrs, OID.signingTime, 'signedAttrs');
    const missing = [!ct && 'content-type', !md && 'message-digest', !st && 'signing-time'].filter(Boolean);
    if (missing.length) {
      report.fail('SIGNED_ATTRIBUTES', 'FORMAT_FAILURE', `missing signed attributes: ${missing.join(', ')}`);
      return;
    }
    if (readOid(ct!, 'content-type') !== sd.eContentType) {
      report.fail('SIGNED_ATTRIBUTES', 'FORMAT_FAILURE', 'the content-type attribute differs from eContentType (RFC 5652 §11.1)');
      return;
    }
    const signingTime = readTime(st!, 'signing-time');
    report.facts.signingTime = signingTime;
    report.pass('SIGNED_ATTRIBUTES', `content-type, message-digest, signing-time ${signingTime.toISOString()}${attrs.some((a) => a.type === OID.signingCertificateV2) ? ', signing-certificate-v2' : ''}; DER-sorted`);
  } catch (err) {
    if (!(err instanceof DerError)) throw err;
    report.fail('SIGNED_ATTRIBUTES', 'FORMAT_FAILURE', err.message);
  }
}

/** ETSI EN 319 412-2 §4.3.2: a sealing certificate's keyUsage allows digitalSignature or nonRepudiation. */
function signerUsageProblem(cert: CertificateView): string | undefined {
  const ext = findExtension(cert, OID.keyUsage);
  if (!ext) return undefined;
  try {
    const usages = readKeyUsage(ext);
    if (!usages.has('digitalSignature') && !usages.has('nonRepudiation')) return 'the signer certificate keyUsage allows neither digitalSignature nor nonRepudiation';
  } catch {
    return 'the signer certificate keyUsage is malformed';
  }
  return undefined;
}

function chainSubIndication(path: Extract<PathOutcome, { valid: false }>): SubIndication {
  if (path.reason === 'OUT_OF_VALIDITY') return 'OUT_OF_BOUNDS_NO_POE';
  if (path.reason === 'CONSTRAINTS') return 'CHAIN_CONSTRAINTS_FAILURE';
  return 'NO_CERTIFICATE_CHAIN_FOUND';
}

async function checkTimeStamp(sd: SignedDataView, si: SignerInfoView, options: VerifyOptions, report: ReportBuilder): Promise<TimeStampTokenInspection | undefined> {
  const attrs = si.unsignedAttrs?.attributes.filter((a) => a.type === OID.signatureTimeStampToken) ?? [];
  const tokens = attrs.flatMap((a) => a.values);
  if (tokens.length === 0) {
    report.fail('TIMESTAMP_PRESENT', 'TIMESTAMP_MISSING', 'no signature-time-stamp: this is a CAdES-B-B, not a B-T');
    return undefined;
  }
  report.pass('TIMESTAMP_PRESENT', tokens.length === 1 ? 'one signature-time-stamp token' : `${tokens.length} signature-time-stamp tokens; the first is validated`);

  let token: TimeStampTokenInspection;
  try {
    // The token is a subtree of the proof, already read as DER: parsed once, not again.
    token = await inspectTimeStampToken(tokens[0]!, { extraCertificates: sd.certificates, ...(options.crypto ? { crypto: options.crypto } : {}) });
  } catch (err) {
    report.fail('TIMESTAMP_SIGNATURE', 'FORMAT_FAILURE', `the time-stamp token is malformed: ${(err as Error).message}`);
    return undefined;
  }
  report.facts.genTime = token.tstInfo.genTime;
  if (token.tsaCertificate) report.facts.tsaSubject = subjectString(token.tsaCertificate);

  // TIMESTAMP_VERSION, TIMESTAMP_ALGORITHMS, TIMESTAMP_SIGNATURE, TIMESTAMP_ESS_BINDING, TSA_CERTIFICATE_USAGE
  reportTokenInspection(report, token);

  // TIMESTAMP_IMPRINT — the hash of the signature OCTET STRING's contents, not of its TLV
  // (docs/cades-profile.md).
  const imprint = token.tstInfo.messageImprint;
  const hash = hashByOid(imprint.hashAlgorithmOid);
  if (!hash) report.fail('TIMESTAMP_IMPRINT', 'TIMESTAMP_IMPRINT_MISMATCH', `unsupported imprint hash algorithm ${imprint.hashAlgorithmOid} (see TIMESTAMP_ALGORITHMS)`);
  else if (equalBytes(imprint.hashedMessage, digest(hash, si.signature))) report.pass('TIMESTAMP_IMPRINT', `imprint is the ${hash} of the signature value`);
  else report.fail('TIMESTAMP_IMPRINT', 'TIMESTAMP_IMPRINT_MISMATCH', `the time-stamp imprint is not the ${hash} of this signature value`);

  // TIMESTAMP_ORDER — the time-stamp cannot precede the claimed signing time.
  const signingTime = report.facts.signingTime;
  if (!signingTime) report.fail('TIMESTAMP_ORDER', 'TIMESTAMP_ORDER_FAILURE', 'not evaluated: no signing-time');
  else if (token.tstInfo.genTime.getTime() >= signingTime.getTime()) report.pass('TIMESTAMP_ORDER', `genTime ${token.tstInfo.genTime.toISOString()} is not before signing-time ${signingTime.toISOString()}`);
  else report.fail('TIMESTAMP_ORDER', 'TIMESTAMP_ORDER_FAILURE', `genTime ${token.tstInfo.genTime.toISOString()} is before signing-time ${signingTime.toISOString()}`);
  return token;
}
