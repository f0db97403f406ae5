/**
 * The audit capability's public face: the platform-neutral check of one proof (bytes in,
 * report out) that the verification page runs in the browser (the CLI's file-reading
 * verifier is verify.ts), and the tar writer of downloadable bundles with where a bundle
 * keeps a proof.
 */
export { AuditError } from './errors.js';
export {
  documentLine,
  indicationOf,
  MAX_PROOF_BYTES,
  sha256Hex,
  tooLargeDetail,
  trustAnchorsFromBytes,
  unreadableProofReport,
  verifyProof,
  type AuditCheck,
  type AuditCheckName,
  type CoreVerifyOptions,
  type DocumentDigest,
  type ProofReport,
  type ProofSources,
} from './verify-core.js';
export type { Indication, SubIndication } from '../crypto/ValidationReport.js';
export type { CertificateInfo } from '../crypto/CertificateInfo.js';
export { tarStream, type TarEntry } from './tar.js';
export { proofPath } from './bundle.js';
