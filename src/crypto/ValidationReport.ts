/**
 * The outcome of validating a proof, modelled on the EU DSS reports and ETSI TS 119 102-1
 * (§5.1.3 indications, §5.1.3 table 5 sub-indications): every check is a named line.
 *
 * Indication rules (DSS convention):
 * - TOTAL_FAILED when the proof is malformed or a hash or signature does not verify
 *   (FORMAT_FAILURE, HASH_FAILURE, SIG_CRYPTO_FAILURE, TIMESTAMP_IMPRINT_MISMATCH): the bytes
 *   are not what was signed; or a certificate was revoked before the proof of existence
 *   (REVOKED, EN 319 102-1 table 5 lists it under TOTAL-FAILED).
 * - INDETERMINATE when the cryptography holds but something needed to trust it is missing or
 *   does not fit: no certificate or chain, a certificate out of its validity, an unsuitable TSA
 *   certificate, no time-stamp (a CAdES-B is not a B-T), time-stamp before signing-time,
 *   revoked without proof of existence before the revocation (REVOKED_NO_POE), no fresh
 *   revocation data (TRY_LATER), an evidence record given with the proof that does not verify
 *   (NO_POE; the audit layer's EVIDENCE_RECORD line, docs/evidence-records.md).
 * - TOTAL_PASSED when every check passed.
 * The sub-indication is that of the first failed line in the order of CHECK_ORDER, among the
 * TOTAL_FAILED ones first. The profile lines (CMS_VERSION, CMS_ALGORITHMS, TIMESTAMP_VERSION,
 * TIMESTAMP_ALGORITHMS) come before the signature lines, so a field outside the profile is
 * reported as the FORMAT_FAILURE it is even when it also breaks a signature.
 */

export type Indication = 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';

export type SubIndication =
  | 'FORMAT_FAILURE'
  | 'HASH_FAILURE'
  | 'SIG_CRYPTO_FAILURE'
  | 'NO_CERTIFICATE_CHAIN_FOUND'
  | 'NO_SIGNING_CERTIFICATE_FOUND'
  | 'OUT_OF_BOUNDS_NO_POE'
  | 'TIMESTAMP_ORDER_FAILURE'
  | 'SIGNED_DATA_NOT_FOUND'
  | 'CHAIN_CONSTRAINTS_FAILURE'
  | 'TSA_CERTIFICATE_INVALID'
  | 'TIMESTAMP_MISSING'
  | 'TIMESTAMP_IMPRINT_MISMATCH'
  | 'REVOKED'
  | 'REVOKED_NO_POE'
  | 'TRY_LATER'
  | 'NO_POE';

export type CheckName =
  | 'CMS_STRUCTURE'
  | 'CMS_VERSION'
  | 'CMS_ALGORITHMS'
  | 'DER_ENCODING'
  | 'SIGNED_ATTRIBUTES'
  | 'SIGNING_CERTIFICATE'
  | 'SIGNING_CERTIFICATE_V2_BINDING'
  | 'MESSAGE_DIGEST'
  | 'SIGNATURE'
  | 'CERTIFICATE_CHAIN'
  | 'TIMESTAMP_PRESENT'
  | 'TIMESTAMP_VERSION'
  | 'TIMESTAMP_ALGORITHMS'
  | 'TIMESTAMP_SIGNATURE'
  | 'TIMESTAMP_ESS_BINDING'
  | 'TSA_CERTIFICATE_USAGE'
  | 'TSA_CERTIFICATE_CHAIN'
  | 'TIMESTAMP_IMPRINT'
  | 'TIMESTAMP_ORDER'
  | 'REVOCATION'
  | 'TSA_REVOCATION';

/** The order lines appear in a report: the order they are evaluated in. */
export const CHECK_ORDER: readonly CheckName[] = [
  'DER_ENCODING',
  'CMS_STRUCTURE',
  'CMS_VERSION',
  'CMS_ALGORITHMS',
  'SIGNED_ATTRIBUTES',
  'SIGNING_CERTIFICATE',
  'SIGNING_CERTIFICATE_V2_BINDING',
  'MESSAGE_DIGEST',
  'SIGNATURE',
  'CERTIFICATE_CHAIN',
  'REVOCATION',
  'TIMESTAMP_PRESENT',
  'TIMESTAMP_VERSION',
  'TIMESTAMP_ALGORITHMS',
  'TIMESTAMP_SIGNATURE',
  'TIMESTAMP_ESS_BINDING',
  'TSA_CERTIFICATE_USAGE',
  'TSA_CERTIFICATE_CHAIN',
  'TSA_REVOCATION',
  'TIMESTAMP_IMPRINT',
  'TIMESTAMP_ORDER',
];

/** Sub-indications that make the whole proof TOTAL_FAILED. */
export const TOTAL_FAILED_SUBINDICATIONS: ReadonlySet<SubIndication> = new Set(['FORMAT_FAILURE', 'HASH_FAILURE', 'SIG_CRYPTO_FAILURE', 'TIMESTAMP_IMPRINT_MISMATCH', 'REVOKED']);

export interface Check {
  name: CheckName;
  passed: boolean;
  subIndication?: SubIndication;
  detail: string;
}

export interface VerificationReport {
  indication: Indication;
  subIndication?: SubIndication;
  checks: Check[];
  /** The enveloped statement bytes, when the structure parsed. */
  content?: Uint8Array;
  signingTime?: Date;
  genTime?: Date;
  signerSubject?: string;
  tsaSubject?: string;
}

/** Collects the lines of a report and derives its indication. */
export class ReportBuilder {
  private readonly checks: Check[] = [];
  readonly facts: Omit<VerificationReport, 'indication' | 'subIndication' | 'checks'> = {};

  pass(name: CheckName, detail: string): void {
    this.checks.push({ name, passed: true, detail });
  }

  fail(name: CheckName, subIndication: SubIndication, detail: string): void {
    this.checks.push({ name, passed: false, subIndication, detail });
  }

  /** Whether any of these lines has failed so far. */
  hasFailed(names: readonly CheckName[]): boolean {
    return this.checks.some((c) => !c.passed && names.includes(c.name));
  }

  report(): VerificationReport {
    const checks = [...this.checks].sort((a, b) => CHECK_ORDER.indexOf(a.name) - CHECK_ORDER.indexOf(b.name));
    const failed = checks.filter((c) => !c.passed);
    const fatal = failed.find((c) => c.subIndication && TOTAL_FAILED_SUBINDICATIONS.has(c.subIndication));
    const first = fatal ?? failed[0];
    const indication: Indication = fatal ? 'TOTAL_FAILED' : first ? 'INDETERMINATE' : 'TOTAL_PASSED';
    return { indication, ...(first?.subIndication ? { subIndication: first.subIndication } : {}), checks, ...this.facts };
  }
}
