/**
 * The verifier the page runs: the audit capability's platform-neutral check (the same code as
 * the auditor's CLI). Its own entry point, so that the tests can bundle exactly this path as
 * the page does and compare its reports with the CLI's (test/unit/verify-browser-bundle.spec.ts).
 */
export { AuditError, MAX_PROOF_BYTES, tooLargeDetail, trustAnchorsFromBytes, unreadableProofReport, verifyProof, type CertificateInfo, type DocumentDigest, type ProofReport } from '../../audit/index.js';
