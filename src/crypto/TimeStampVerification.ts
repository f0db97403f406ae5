/**
 * Stand-alone validation of an RFC 3161 time-stamp token over given data — what an auditor
 * needs for the event log's checkpoints, whose tokens are not inside a CAdES signature.
 * One named line per check, as `verifyCadesT` reports them:
 *
 * | line | what | failing sub-indication |
 * | --- | --- | --- |
 * | DER_ENCODING | the token is DER (X.690 §10–11) | FORMAT_FAILURE |
 * | CMS_STRUCTURE | ContentInfo/SignedData over an id-ct-TSTInfo, one SignerInfo (RFC 3161 §2.4.2), X.509 certificates only (RFC 5652 §10.2.2) | FORMAT_FAILURE |
 * | TIMESTAMP_VERSION | SignedData.version 3 (RFC 5652 §5.1), SignerInfo.version fits its sid (§5.3), TSTInfo.version 1 (RFC 3161 §2.4.2) | FORMAT_FAILURE |
 * | TIMESTAMP_ALGORITHMS | digestAlgorithms, digestAlgorithm, signatureAlgorithm against the TSA key, messageImprint (CadesProfile.ts: RFC 5652 §5.1, RFC 5754 §2–3, RFC 5758 §3.2, RFC 3370 §3.2, RFC 4055 §5, RFC 3161 §2.4.2) | FORMAT_FAILURE |
 * | TIMESTAMP_SIGNATURE | content-type, message-digest and the signature (RFC 5652 §5.4–5.6) | SIG_CRYPTO_FAILURE, TSA_CERTIFICATE_INVALID |
 * | TIMESTAMP_ESS_BINDING | ESS signing-certificate(-v2) names the TSA certificate (RFC 3161 §2.4.1, RFC 5816) | TSA_CERTIFICATE_INVALID |
 * | TSA_CERTIFICATE_USAGE | extendedKeyUsage id-kp-timeStamping only, critical (RFC 3161 §2.3) | TSA_CERTIFICATE_INVALID |
 * | TSA_CERTIFICATE_CHAIN | path to a trust anchor, valid at `at` or else genTime (RFC 5280 §6) | NO_CERTIFICATE_CHAIN_FOUND, OUT_OF_BOUNDS_NO_POE, CHAIN_CONSTRAINTS_FAILURE |
 * | TIMESTAMP_IMPRINT | messageImprint = hash of `data` (RFC 3161 §2.4.2) | TIMESTAMP_IMPRINT_MISMATCH |
 *
 * Here the TSA certificate is the signer's, so a path problem gets the signer's
 * sub-indications (not TSA_CERTIFICATE_INVALID as for a signature-time-stamp). Never throws.
 */
import { digest, hashByOid } from './AlgorithmIdentifier.js';
import { subjectString } from './Certificate.js';
import { validateCertificatePath } from './CertificatePath.js';
import { equalBytes, readDer } from './der.js';
import { inspectTimeStampToken, reportTokenInspection, type TimeStampTokenInspection } from './TimeStampToken.js';
import { ReportBuilder, type SubIndication, type VerificationReport } from './ValidationReport.js';

export interface TimeStampVerifyOptions {
  /** DER root certificates. */
  trustAnchors: Uint8Array[];
  /** Validate the TSA certificate's path at this time instead of genTime. */
  at?: Date;
  crypto?: Crypto;
}

export interface TimeStampVerificationReport extends VerificationReport {
  /** The token's serial number (hex) and policy, when it parsed. */
  serialNumber?: string;
  policy?: string;
}

export async function verifyTimeStampToken(token: Uint8Array, data: Uint8Array, options: TimeStampVerifyOptions): Promise<TimeStampVerificationReport> {
  const report = new ReportBuilder();
  let extra: Pick<TimeStampVerificationReport, 'serialNumber' | 'policy'> = {};
  try {
    extra = await verify(token, data, { ...options, trustAnchors: Array.isArray(options?.trustAnchors) ? options.trustAnchors : [] }, report);
  } catch (err) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', `validation stopped: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { ...report.report(), ...extra };
}

async function verify(token: Uint8Array, data: Uint8Array, options: TimeStampVerifyOptions, report: ReportBuilder): Promise<Pick<TimeStampVerificationReport, 'serialNumber' | 'policy'>> {
  if (!(token instanceof Uint8Array) || !(data instanceof Uint8Array)) {
    report.fail('DER_ENCODING', 'FORMAT_FAILURE', 'the token and the data must be byte arrays');
    return {};
  }
  try {
    readDer(token);
  } catch (err) {
    report.fail('DER_ENCODING', 'FORMAT_FAILURE', `the time-stamp token is not DER: ${(err as Error).message}`);
    return {};
  }
  report.pass('DER_ENCODING', `all ${token.length} octets are DER`);

  let inspection: TimeStampTokenInspection;
  try {
    inspection = await inspectTimeStampToken(token, options.crypto ? { crypto: options.crypto } : {});
  } catch (err) {
    report.fail('CMS_STRUCTURE', 'FORMAT_FAILURE', `the time-stamp token is malformed: ${(err as Error).message}`);
    return {};
  }
  const { tstInfo, tsaCertificate } = inspection;
  report.pass('CMS_STRUCTURE', `TimeStampToken with one SignerInfo, genTime ${tstInfo.genTime.toISOString()}`);
  report.facts.genTime = tstInfo.genTime;
  if (tsaCertificate) report.facts.tsaSubject = subjectString(tsaCertificate);

  // TIMESTAMP_VERSION, TIMESTAMP_ALGORITHMS, TIMESTAMP_SIGNATURE, TIMESTAMP_ESS_BINDING, TSA_CERTIFICATE_USAGE
  reportTokenInspection(report, inspection);

  // TSA_CERTIFICATE_CHAIN — RFC 5280 §6 at `at`, or genTime.
  if (tsaCertificate) {
    const at = options.at ?? tstInfo.genTime;
    const path = await validateCertificatePath(tsaCertificate.der, inspection.signedData.certificates, options.trustAnchors, at, options.crypto);
    if (path.valid) report.pass('TSA_CERTIFICATE_CHAIN', path.detail);
    else report.fail('TSA_CERTIFICATE_CHAIN', chainSubIndication(path.reason), path.detail);
  } else {
    report.fail('TSA_CERTIFICATE_CHAIN', 'NO_SIGNING_CERTIFICATE_FOUND', 'not evaluated: no TSA certificate');
  }

  // TIMESTAMP_IMPRINT — RFC 3161 §2.4.2: the imprint is the hash of the data time-stamped.
  const imprint = tstInfo.messageImprint;
  const hash = hashByOid(imprint.hashAlgorithmOid);
  if (!hash) report.fail('TIMESTAMP_IMPRINT', 'TIMESTAMP_IMPRINT_MISMATCH', `unsupported imprint hash algorithm ${imprint.hashAlgorithmOid}`);
  else if (equalBytes(imprint.hashedMessage, digest(hash, data))) report.pass('TIMESTAMP_IMPRINT', `imprint is the ${hash} of the ${data.length} octets given`);
  else report.fail('TIMESTAMP_IMPRINT', 'TIMESTAMP_IMPRINT_MISMATCH', `the time-stamp imprint is not the ${hash} of the data given`);

  return { serialNumber: tstInfo.serialNumber.toString(16), policy: tstInfo.policy };
}

function chainSubIndication(reason: 'NO_PATH' | 'OUT_OF_VALIDITY' | 'CONSTRAINTS'): SubIndication {
  if (reason === 'OUT_OF_VALIDITY') return 'OUT_OF_BOUNDS_NO_POE';
  if (reason === 'CONSTRAINTS') return 'CHAIN_CONSTRAINTS_FAILURE';
  return 'NO_CERTIFICATE_CHAIN_FOUND';
}
