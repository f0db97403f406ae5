/**
 * What a person needs to recognise a certificate — subject, issuer, validity and SHA-256
 * fingerprint — e.g. to show an auditor which trust anchors a report was made against, so
 * that they can be compared with the published ones. Throws DerError for anything that is
 * not a DER X.509 certificate (RFC 5280 §4.1).
 */
import { createHash } from 'node:crypto';
import { parseCertificate } from './Certificate.js';
import { nameToString } from './Name.js';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lower-case hex (as `openssl x509 -fingerprint -sha256` prints it, without colons). */
  sha256: string;
}

export function certificateInfo(der: Uint8Array): CertificateInfo {
  const cert = parseCertificate(der);
  return {
    subject: nameToString(cert.subject),
    issuer: nameToString(cert.issuer),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    sha256: createHash('sha256').update(der).digest('hex'),
  };
}
