/**
 * CAdES baseline signatures (ETSI EN 319 122-1): B-B, and B-T with a signature time-stamp.
 *
 * A proof is a DER ContentInfo (RFC 5652 §3) holding SignedData (§5):
 * - version 1, digestAlgorithms {sha256}, the content ENVELOPED (eContentType id-data,
 *   eContent one primitive OCTET STRING);
 * - certificates: the signer's certificate and its whole chain, root included;
 * - one SignerInfo, version 1, identified by issuerAndSerialNumber, with the signed attributes
 *   (DER-sorted) content-type, message-digest, signing-time (EN 319 122-1 §5.2.1) and
 *   signing-certificate-v2 (§5.2.2.3, RFC 5035), signed with sha256WithRSAEncryption (NULL
 *   parameters) or ecdsa-with-SHA256 (no parameters);
 * - for B-T, the unsigned attribute signature-time-stamp (EN 319 122-1 §5.3,
 *   id-aa-signatureTimeStampToken, RFC 3161 Appendix A) whose token's imprint is the SHA-256
 *   of the CONTENTS of the signature OCTET STRING (not the whole TLV; trap 9).
 *
 * `openssl cms -cmsout -inform DER -outform DER` gives back the same bytes.
 */
import { algorithmSpec, digest, hashByOid } from './AlgorithmIdentifier.js';
import { parseCertificate } from './Certificate.js';
import { DerError, equalBytes } from './der.js';
import { defaultCrypto } from './webcrypto.js';
import { OID } from './oids.js';
import { contentTypeAttribute, encodeAttribute, messageDigestAttribute, signingTimeAttribute } from './SignedAttributes.js';
import { encodeSignedData, encodeSignerInfo, parseSignedData, replaceUnsignedAttributes, signedAttributesForSignature } from './SignedData.js';
import { signBytes } from './Signature.js';
import type { SigningIdentity } from './SigningIdentity.js';
import { signingCertificateV2Attribute } from './SigningCertificateV2.js';
import { TimeStampError } from './TimeStampError.js';
import type { TimeStamper } from './TimeStamper.js';
import { parseTimeStampToken } from './TimeStampToken.js';

export interface SealOptions {
  /** The signing-time claimed (default now; whole seconds). */
  signingTime?: Date;
  crypto?: Crypto;
}

async function buildCadesB(content: Uint8Array, identity: SigningIdentity, options: SealOptions): Promise<{ der: Uint8Array; signature: Uint8Array }> {
  const crypto = options.crypto ?? defaultCrypto();
  const signer = parseCertificate(identity.certificate);
  const signedAttributes = [
    contentTypeAttribute(OID.data),
    messageDigestAttribute(digest('SHA-256', content)),
    signingTimeAttribute(options.signingTime ?? new Date()),
    signingCertificateV2Attribute(signer),
  ];
  const signature = await signBytes(identity.privateKey, identity.algorithm, signedAttributesForSignature(signedAttributes), crypto);
  const signerInfo = encodeSignerInfo({ signer, signedAttributes, signatureAlgorithm: algorithmSpec(identity.algorithm).signatureAlgorithm, signature });
  const der = encodeSignedData({ eContentType: OID.data, eContent: content, certificates: [identity.certificate, ...identity.chain], signerInfo });
  return { der, signature };
}

/** A CAdES-B-B signature enveloping `content` (no time-stamp). */
export async function signCadesB(content: Uint8Array, identity: SigningIdentity, options: SealOptions = {}): Promise<Uint8Array> {
  return (await buildCadesB(content, identity, options)).der;
}

/** The unsigned attribute signature-time-stamp holding `token` (ETSI EN 319 122-1 §5.3). */
export function signatureTimeStampAttribute(token: Uint8Array): Uint8Array {
  return encodeAttribute(OID.signatureTimeStampToken, [token]);
}

/**
 * Adds (or replaces) the signature time-stamp of a CAdES signature, copying every other
 * octet. No check is made that the token belongs to the signature: `verifyCadesT` does that.
 */
export function addSignatureTimeStamp(cades: Uint8Array, token: Uint8Array): Uint8Array {
  return replaceUnsignedAttributes(cades, [signatureTimeStampAttribute(token)]);
}

/**
 * Seals `content` as a CAdES-B-T signature: signs, has the signature value time-stamped by
 * `timeStamper`, checks that the token's imprint is over that signature value (else
 * TimeStampError TSA_RESPONSE_MISMATCH), and embeds it.
 */
export async function sealCadesT(content: Uint8Array, identity: SigningIdentity, timeStamper: TimeStamper, options: SealOptions = {}): Promise<Uint8Array> {
  const { der, signature } = await buildCadesB(content, identity, options);
  const token = await timeStamper.timestamp(signature);
  assertTokenOverSignature(token, signature);
  return addSignatureTimeStamp(der, token);
}

/**
 * Checks that a signature time-stamp token's imprint is the hash of the signature value
 * (ETSI EN 319 122-1 §5.3; trap 9 of the notes: the contents of the OCTET STRING), so a
 * time-stamper that answers for other data is caught before the proof is written.
 */
export function assertTokenOverSignature(token: Uint8Array, signature: Uint8Array): void {
  let imprint;
  try {
    imprint = parseTimeStampToken(token).messageImprint;
  } catch (err) {
    throw new TimeStampError('TSA_BAD_RESPONSE', 'the time-stamper returned a malformed token', { cause: err });
  }
  const hash = hashByOid(imprint.hashAlgorithmOid);
  if (!hash || !equalBytes(imprint.hashedMessage, digest(hash, signature))) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', 'the time-stamp token is not over the signature value');
  }
}

/**
 * The signature time-stamp token of a proof and the signature value it should cover (the
 * contents of the SignerInfo's signature OCTET STRING), for checking with
 * `openssl ts -verify -token_in -in token.der -data sigvalue.bin`. Throws DerError when the
 * proof is malformed or has no time-stamp.
 */
export function extractTimeStamp(proof: Uint8Array): { token: Uint8Array; signatureValue: Uint8Array } {
  const sd = parseSignedData(proof);
  if (sd.signerInfos.length !== 1) throw new DerError('SignedData: exactly one SignerInfo expected');
  const si = sd.signerInfos[0]!;
  const attr = si.unsignedAttrs?.attributes.find((a) => a.type === OID.signatureTimeStampToken);
  if (!attr) throw new DerError('the proof has no signature-time-stamp attribute (a CAdES-B, not a B-T)');
  return { token: attr.values[0]!.bytes, signatureValue: si.signature };
}
