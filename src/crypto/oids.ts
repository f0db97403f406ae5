/**
 * Object identifiers used by this layer, each with the document that assigns it.
 */
export const OID = {
  // RFC 5652 (CMS) §4, §5, §11; RFC 3161 §2.4.2
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4', // id-ct-TSTInfo
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  // RFC 2634 §5.4 / RFC 5035 §3: ESS signing-certificate (v1, SHA-1) and v2
  signingCertificate: '1.2.840.113549.1.9.16.2.12',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  // RFC 3161 Appendix A: id-aa-signatureTimeStampToken
  signatureTimeStampToken: '1.2.840.113549.1.9.16.2.14',

  // Digest algorithms: RFC 3874 / RFC 5754 §2 (NIST hash OIDs); SHA-1 from RFC 3279 §2.1
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',

  // Signature algorithms: RFC 8017 A.2 / RFC 4055 §5 (RSA), RFC 5758 §3.2 (ECDSA)
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  // RFC 5480 §2.1.1.1 named curves
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  secp521r1: '1.3.132.0.35',

  // X.520 attribute types used in names (RFC 5280 §4.1.2.4, Appendix A)
  commonName: '2.5.4.3',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  localityName: '2.5.4.7',
  stateOrProvinceName: '2.5.4.8',
  organizationName: '2.5.4.10',
  organizationalUnitName: '2.5.4.11',
  organizationIdentifier: '2.5.4.97',
  emailAddress: '1.2.840.113549.1.9.1',

  // RFC 5280 §4.2.1 certificate extensions
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  // RFC 5280 §5.2.3, §5.3.1, §5.3.2, §4.2.1.13
  cRLNumber: '2.5.29.20',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  cRLDistributionPoints: '2.5.29.31',
  // RFC 5280 §4.2.1.12 key purposes
  kpTimeStamping: '1.3.6.1.5.5.7.3.8',
  kpEmailProtection: '1.3.6.1.5.5.7.3.4',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  // RFC 5280 §4.2.2.1, RFC 6960
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  ocspBasic: '1.3.6.1.5.5.7.48.1.1',
  ocspNonce: '1.3.6.1.5.5.7.48.1.2',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  // RFC 5940 §3: an OCSP response in CMS RevocationInfoChoice other
  riOcspResponse: '1.3.6.1.5.5.7.16.2',
} as const;
