/**
 * The profile a proof and its signature time-stamp token are held to: every version number
 * and algorithm identifier the verifier reads, checked against the rule that governs it
 * (docs/cades-profile.md says the same for a reader of the proofs). A field outside the profile
 * is a FORMAT_FAILURE on a named line, whether or not the signature happens to cover it:
 * the versions, `digestAlgorithms` and `signatureAlgorithm` are not signed at all, so nothing
 * else would notice them changed.
 *
 * | line | field | rule | source |
 * | --- | --- | --- | --- |
 * | CMS_STRUCTURE, TIMESTAMP_VERSION | CertificateChoices, RevocationInfoChoice | X.509 `certificate` and `crl` only (no attribute, extended or other formats) | profile; RFC 5652 §10.2.1–10.2.2 |
 * | CMS_VERSION, TIMESTAMP_VERSION | SignedData.version | the value §5.1 derives from the content: 1 for id-data with version-1 SignerInfos and X.509 certificates only; 3 when eContentType is not id-data (a token's id-ct-TSTInfo) or a SignerInfo is version 3 | RFC 5652 §5.1 |
 * | CMS_VERSION, TIMESTAMP_VERSION | SignerInfo.version | 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier | RFC 5652 §5.3 |
 * | TIMESTAMP_VERSION | TSTInfo.version | 1 | RFC 3161 §2.4.2 |
 * | CMS_ALGORITHMS, TIMESTAMP_ALGORITHMS | SignerInfo.digestAlgorithm | SHA-256, SHA-384 or SHA-512; parameters absent or NULL | RFC 5754 §2 |
 * | CMS_ALGORITHMS, TIMESTAMP_ALGORITHMS | SignedData.digestAlgorithms | each entry as above, each once, each used by the SignerInfo (so exactly its digestAlgorithm) | RFC 5652 §5.1; RFC 5754 §2 |
 * | CMS_ALGORITHMS, TIMESTAMP_ALGORITHMS | SignerInfo.signatureAlgorithm | fits the signer's key: ECDSA key → ecdsa-with-SHA256/384/512, parameters absent; RSA key → rsaEncryption or sha256/384/512WithRSAEncryption, parameters NULL (or absent, which verifiers must accept); the hash it names = digestAlgorithm | RFC 5754 §3.2–3.3; RFC 5758 §3.2; RFC 3370 §3.2; RFC 4055 §5 |
 * | TIMESTAMP_ALGORITHMS | TSTInfo.messageImprint | hashAlgorithm SHA-256, SHA-384 or SHA-512, parameters absent or NULL; hashedMessage as long as that hash | RFC 3161 §2.4.2; RFC 5754 §2 |
 *
 * SHA-1 and MD5 are outside the profile everywhere (the service signs with SHA-256 only; an
 * ESS signing-certificate v1 certHash is SHA-1 by definition and is checked elsewhere).
 */
import { hashByOid, hashLength, readAlgorithmIdentifier, type AlgorithmIdentifierValue, type HashName } from './AlgorithmIdentifier.js';
import { DerError, Tag, readDer } from './der.js';
import { OID } from './oids.js';
import type { Outcome, SignedDataView, SignerInfoView } from './SignedData.js';
import type { PublicKeyInfo } from './SubjectPublicKeyInfo.js';
import type { MessageImprint, TSTInfo } from './TSTInfo.js';

/** Digest algorithms of the profile (RFC 5754 §2). */
export const PROFILE_HASHES: readonly HashName[] = ['SHA-256', 'SHA-384', 'SHA-512'];

/** CertificateChoices (RFC 5652 §10.2.2) by identifier octet. */
const CERTIFICATE_CHOICES: Record<number, string> = {
  [Tag.SEQUENCE]: 'certificate',
  0xa0: 'extendedCertificate [0] (obsolete)',
  0xa1: 'v1AttrCert [1]',
  0xa2: 'v2AttrCert [2]',
  0xa3: 'other [3]',
};

/** Signature algorithms of the profile, by key family, with the hash each names (RFC 5754 §3.2–3.3, RFC 5758 §3.2). */
const SIGNATURE_ALGORITHMS: Record<string, { name: string; family: 'RSA' | 'ECDSA'; hash?: HashName }> = {
  [OID.rsaEncryption]: { name: 'rsaEncryption', family: 'RSA' },
  [OID.sha256WithRSAEncryption]: { name: 'sha256WithRSAEncryption', family: 'RSA', hash: 'SHA-256' },
  [OID.sha384WithRSAEncryption]: { name: 'sha384WithRSAEncryption', family: 'RSA', hash: 'SHA-384' },
  [OID.sha512WithRSAEncryption]: { name: 'sha512WithRSAEncryption', family: 'RSA', hash: 'SHA-512' },
  [OID.ecdsaWithSHA256]: { name: 'ecdsa-with-SHA256', family: 'ECDSA', hash: 'SHA-256' },
  [OID.ecdsaWithSHA384]: { name: 'ecdsa-with-SHA384', family: 'ECDSA', hash: 'SHA-384' },
  [OID.ecdsaWithSHA512]: { name: 'ecdsa-with-SHA512', family: 'ECDSA', hash: 'SHA-512' },
};

function parametersText(alg: AlgorithmIdentifierValue): string {
  if (!alg.parameters) return 'absent';
  return alg.parameters.tag === Tag.NULL ? 'NULL' : `tag 0x${alg.parameters.tag.toString(16)}`;
}

const isNull = (alg: AlgorithmIdentifierValue) => alg.parameters !== undefined && alg.parameters.tag === Tag.NULL && alg.parameters.content.length === 0;

/** CertificateChoices and RevocationInfoChoice: X.509 certificates, CRLs and OCSP responses (id-ri-ocsp-response) only (profile; RFC 5652 §10.2.1–10.2.2, RFC 5940). */
export function certificateChoiceProblems(sd: SignedDataView, what: string): string[] {
  const problems: string[] = [];
  for (const tag of sd.certificateChoiceTags) {
    if (tag !== Tag.SEQUENCE) problems.push(`${what} certificates holds a ${CERTIFICATE_CHOICES[tag] ?? `choice with tag 0x${tag.toString(16)}`}; the profile carries X.509 certificates only (RFC 5652 §10.2.2)`);
  }
  for (const tag of sd.revocationChoiceTags) {
    if (tag !== Tag.SEQUENCE && tag !== 0xa1) problems.push(`${what} crls holds a RevocationInfoChoice with tag 0x${tag.toString(16)}; the profile allows X.509 CRLs and OCSP responses only (RFC 5652 §10.2.1, RFC 5940 §3)`);
  }
  for (const format of sd.otherRevocationFormats) {
    if (format !== OID.riOcspResponse) problems.push(`${what} crls holds an other RevocationInfoChoice of format ${format}; the profile allows id-ri-ocsp-response only (RFC 5940 §3)`);
  }
  return problems;
}

/** RFC 5652 §5.1: the SignedData version its content requires. */
export function expectedSignedDataVersion(sd: SignedDataView): number {
  const other = sd.certificateChoiceTags.includes(0xa3) || sd.revocationChoiceTags.includes(0xa1);
  if (other) return 5;
  if (sd.certificateChoiceTags.includes(0xa2)) return 4;
  if (sd.certificateChoiceTags.includes(0xa1) || sd.signerInfos.some((si) => si.version === 3) || sd.eContentType !== OID.data) return 3;
  return 1;
}

/** SignedData.version (RFC 5652 §5.1) and each SignerInfo.version (§5.3). */
export function versionProblems(sd: SignedDataView, what: string): string[] {
  const problems: string[] = [];
  const expected = expectedSignedDataVersion(sd);
  if (sd.version !== expected) problems.push(`${what} SignedData version ${sd.version}; its content requires version ${expected} (RFC 5652 §5.1)`);
  for (const si of sd.signerInfos) {
    const bySerial = 'issuer' in si.sid;
    const wanted = bySerial ? 1 : 3;
    if (si.version !== wanted) problems.push(`${what} SignerInfo version ${si.version}; with a ${bySerial ? 'issuerAndSerialNumber' : 'subjectKeyIdentifier'} sid it must be ${wanted} (RFC 5652 §5.3)`);
  }
  return problems;
}

/** A digest AlgorithmIdentifier of the profile: SHA-256/384/512, parameters absent or NULL (RFC 5754 §2). */
export function digestAlgorithmProblem(alg: AlgorithmIdentifierValue, what: string): string | undefined {
  const hash = hashByOid(alg.oid);
  if (!hash || !PROFILE_HASHES.includes(hash)) return `${what} ${alg.oid} is not a digest algorithm of the profile (SHA-256, SHA-384, SHA-512)`;
  if (alg.parameters && !isNull(alg)) return `${what} ${hash} has parameters (${parametersText(alg)}); they must be absent or NULL (RFC 5754 §2)`;
  return undefined;
}

/**
 * SignedData.digestAlgorithms (RFC 5652 §5.1: "each element identifies the message digest
 * algorithm … used by one or more signer") and the SignerInfo's digestAlgorithm.
 */
export function digestAlgorithmsProblems(sd: SignedDataView, si: SignerInfoView, what: string): string[] {
  const problems: string[] = [];
  const own = digestAlgorithmProblem(si.digestAlgorithm, `${what} SignerInfo digestAlgorithm`);
  if (own) problems.push(own);
  const seen = new Set<string>();
  for (const alg of sd.digestAlgorithms) {
    const p = digestAlgorithmProblem(alg, `${what} SignedData.digestAlgorithms entry`);
    if (p) problems.push(p);
    else if (seen.has(alg.oid)) problems.push(`${what} SignedData.digestAlgorithms names ${hashByOid(alg.oid)} twice`);
    else if (alg.oid !== si.digestAlgorithm.oid) problems.push(`${what} SignedData.digestAlgorithms names ${hashByOid(alg.oid)}, which no SignerInfo uses (RFC 5652 §5.1)`);
    seen.add(alg.oid);
  }
  if (!sd.digestAlgorithms.some((a) => a.oid === si.digestAlgorithm.oid)) {
    problems.push(`${what} SignedData.digestAlgorithms does not name the SignerInfo's digest algorithm ${hashByOid(si.digestAlgorithm.oid) ?? si.digestAlgorithm.oid} (RFC 5652 §5.1)`);
  }
  return problems;
}

/**
 * SignerInfo.signatureAlgorithm against the signer's key (when known) and the digestAlgorithm:
 * RFC 5758 §3.2 (ECDSA: parameters absent), RFC 3370 §3.2 and RFC 4055 §5 (RSA: parameters
 * NULL, absent accepted), RFC 5754 §3 (the hash it names is the digestAlgorithm's).
 */
export function signatureAlgorithmProblems(si: SignerInfoView, key: PublicKeyInfo | undefined, what: string): string[] {
  const alg = si.signatureAlgorithm;
  const known = SIGNATURE_ALGORITHMS[alg.oid];
  if (!known) return [`${what} signatureAlgorithm ${alg.oid} is not a signature algorithm of the profile`];
  const problems: string[] = [];
  if (known.family === 'ECDSA' && alg.parameters) problems.push(`${what} signatureAlgorithm ${known.name} has parameters (${parametersText(alg)}); RFC 5758 §3.2 requires them absent`);
  if (known.family === 'RSA' && alg.parameters && !isNull(alg)) problems.push(`${what} signatureAlgorithm ${known.name} has parameters (${parametersText(alg)}); they must be NULL (RFC 3370 §3.2, RFC 4055 §5)`);
  if (key && key.family !== known.family) problems.push(`${what} signatureAlgorithm ${known.name} does not fit the signer's ${key.family} key`);
  const digestHash = hashByOid(si.digestAlgorithm.oid);
  if (known.hash && digestHash && known.hash !== digestHash) problems.push(`${what} signatureAlgorithm ${known.name} names ${known.hash}, the digestAlgorithm ${digestHash} (RFC 5754 §3)`);
  return problems;
}

/** CMS_ALGORITHMS / TIMESTAMP_ALGORITHMS for one SignedData with one SignerInfo. */
export function algorithmProblems(sd: SignedDataView, si: SignerInfoView, key: PublicKeyInfo | undefined, what: string): string[] {
  return [...digestAlgorithmsProblems(sd, si, what), ...signatureAlgorithmProblems(si, key, what)];
}

/** TSTInfo.version is 1 (RFC 3161 §2.4.2). */
export function tstInfoVersionProblem(tstInfo: Pick<TSTInfo, 'version'>): string | undefined {
  return tstInfo.version === 1 ? undefined : `TSTInfo version ${tstInfo.version}; RFC 3161 §2.4.2 defines version 1 only`;
}

/** messageImprint: a profile hash, parameters absent or NULL, hashedMessage of that hash's length (RFC 3161 §2.4.2). */
export function messageImprintProblems(imprint: MessageImprint): string[] {
  let alg: AlgorithmIdentifierValue;
  try {
    alg = readAlgorithmIdentifier(readDer(imprint.hashAlgorithmDer), 'messageImprint.hashAlgorithm');
  } catch (err) {
    if (err instanceof DerError) return [err.message];
    throw err;
  }
  const p = digestAlgorithmProblem(alg, 'messageImprint hashAlgorithm');
  if (p) return [p];
  const hash = hashByOid(alg.oid)!;
  if (imprint.hashedMessage.length !== hashLength(hash)) return [`messageImprint hashedMessage is ${imprint.hashedMessage.length} octets; a ${hash} value is ${hashLength(hash)} (RFC 3161 §2.4.2)`];
  return [];
}

/** One line of a report from a list of problems. */
export function profileOutcome(problems: readonly string[], passed: string): Outcome {
  return problems.length ? { ok: false, detail: problems.join('; ') } : { ok: true, detail: passed };
}

/** The name the report gives an algorithm identifier. */
export function algorithmName(alg: AlgorithmIdentifierValue): string {
  return SIGNATURE_ALGORITHMS[alg.oid]?.name ?? hashByOid(alg.oid) ?? alg.oid;
}
