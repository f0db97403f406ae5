/**
 * The crypto layer: keys and certificates, RFC 3161 time-stamping (authority and clients),
 * CAdES-T sealing (one writer, CadesT.ts, behind a `Signer`) and verification. The rest of
 * the project imports from here only.
 */
export { KEY_ALGORITHMS, type HashName, type KeyAlgorithm } from './AlgorithmIdentifier.js';
export { certificateInfo, type CertificateInfo } from './CertificateInfo.js';
export { DerError } from './der.js';
export { createDevPki, DEV_CRL_URL, DEV_OCSP_URL, devPkiDirName, devPkiPaths, ensureDevPki, generateDevPki, issueDevCrl, revokeDevCertificate, writeDevPki, type DevCrlOptions, type DevPki, type DevPkiOptions, type DevPkiPaths, type DevRoot } from './DevPki.js';
export { defaultCrypto, installPkijsEngine, pkijsEngine } from './engine.js';
export { HttpTimeStamper, type HttpTimeStamperOptions } from './HttpTimeStamper.js';
export { KeyFileError, loadSigningIdentity, readPrivateFile, type KeyFileErrorCode, type SigningIdentitySource } from './KeyFiles.js';
export { LocalTimeStamper } from './LocalTimeStamper.js';
export { derToPem, pemToDer } from './pem.js';
export type { SigningIdentity } from './SigningIdentity.js';
export { TimeStampAuthority, type TimeStampAuthorityOptions } from './TimeStampAuthority.js';
export { TimeStampError, type TimeStampErrorCode } from './TimeStampError.js';
export type { TimeStamper } from './TimeStamper.js';
export type { PKIFailureInfo, PKIStatus } from './TimeStampResp.js';
export { parseTimeStampToken, type TimeStampTokenInfo } from './TimeStampToken.js';
export type { MessageImprint, TSTInfo } from './TSTInfo.js';
export { CadesTWriter, extractTimeStamp, type PreparedSignature } from './CadesT.js';
export { addLongTermValues, certificatePathFrom, crlUrlsOf, longTermTargets, type LongTermTargets, type LongTermValues } from './CadesLt.js';
export { crlsFor, crlStatus, revocationStatus, revocationStatusFrom, type RevocationStatus } from './Revocation.js';
export {
  authorityInfoAccessOcsp,
  issueOcspResponse,
  ocspErrorResponse,
  ocspRequest,
  ocspStatusOf,
  ocspUrlsOf,
  parseOcspResponse,
  readOcspRequest,
  type CertId,
  type OcspCertStatus,
  type OcspResponderIdentity,
  type OcspResponseView,
} from './Ocsp.js';
export { subjectString as subjectOf, type CertificateView } from './Certificate.js';
export { PadesWriter } from './Pades.js';
export { verifyCadesT, type VerifyOptions } from './CadesVerification.js';
export { verifyTimeStampToken, type TimeStampVerificationReport, type TimeStampVerifyOptions } from './TimeStampVerification.js';
export type { Check, CheckName, Indication, SubIndication, VerificationReport } from './ValidationReport.js';
export { TOTAL_FAILED_SUBINDICATIONS } from './ValidationReport.js';
export { CRL_REASONS, crlDistributionPoints, issueCrl, parseCrl, readCrlDistributionPoints, type CrlEntry, type CrlReason, type CrlView, type RevokedCertificate } from './Crl.js';
export { KeyObjectSigner, WebCryptoSigner, signerFor, type NativeSigningIdentity, type Signer } from './Signer.js';
export { TimeStampTokenTemplate } from './TimeStampTokenTemplate.js';
export type { NativeTsaConfig } from './TimeStampAuthority.js';
export { SealingPool } from './workers/SealingPool.js';
export { createDevCertificates } from './DevPki.js';
export { devTokenKeyLabels, generateDevPkiOnToken, type DevTokenPki } from './DevPkiToken.js';
export { readCertificateFile } from './KeyFiles.js';
export {
  Pkcs11SetupError,
  Pkcs11Signer,
  Pkcs11UnavailableError,
  generateTokenKeyPair,
  storeTokenCertificate,
  tokenKeyProtection,
  type Pkcs11KeyConfig,
  type Pkcs11Setting,
  type Pkcs11State,
  type TokenLogin,
} from './Pkcs11.js';
export {
  appendArchiveTimeStampChain,
  assembleEvidenceRecord,
  buildHashTree,
  createEvidenceRecords,
  EVIDENCE_HASHES,
  hashTreeRenewalLeaf,
  parseEvidenceRecord,
  recordDigestAlgorithm,
  reducedHashTree,
  renewHashTree,
  encodeArchiveTimeStamp,
  encodeEvidenceRecord,
  recoverRoot,
  renewTimeStamp,
  timeStampRenewal,
  verifyEvidenceRecord,
  type EvidenceLeaf,
  type EvidenceRecordChainReport,
  type EvidenceRecordCheck,
  type EvidenceRecordCheckName,
  type EvidenceRecordReport,
  type EvidenceRecords,
  type EvidenceRecordVerifyOptions,
  type HashTree,
  type StoredChain,
} from './EvidenceRecord.js';
export type { DigestTimeStamper } from './TimeStamper.js';
