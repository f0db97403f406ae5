/**
 * Builds CAdES-B-T proofs field by field, signed for real with a dev PKI's sealing and TSA
 * keys (node:crypto), so that a test can change one version or algorithm identifier and keep
 * every signature, digest and imprint valid: the only thing wrong with the result is the field
 * the test changed. With no override the proof is what the sealer writes (same structure,
 * same identifiers) and verifies TOTAL_PASSED.
 *
 * Independent of the sealing code on purpose (it composes the structures of RFC 5652 §5 and
 * RFC 3161 §2.4.2 itself from der.ts primitives), so that it can write what the sealer never
 * would.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { parseCertificate, type CertificateView } from '../../../src/crypto/Certificate.js';
import { derNull, explicit, generalizedTime, implicit, integer, octetString, oid, sequence, setOf, utcTime } from '../../../src/crypto/der.js';
import type { DevPki } from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { encodeAttribute } from '../../../src/crypto/SignedAttributes.js';
import { signingCertificateV2Attribute } from '../../../src/crypto/SigningCertificateV2.js';

export type NodeHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASH_OID: Record<NodeHash, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };

/** One SignedData and its SignerInfo, field by field (DER pieces where an identifier is meant). */
export interface SignerOverrides {
  /** SignedData.version (default: 1 for the proof, 3 for the token, as RFC 5652 §5.1 says). */
  signedDataVersion?: number;
  /** SignerInfo.version (default 1: issuerAndSerialNumber). */
  signerInfoVersion?: number;
  /** The hash actually used for the message-digest attribute and the signature (default sha256). */
  hash?: NodeHash;
  /** SignedData.digestAlgorithms entries (default: the digestAlgorithm). */
  digestAlgorithms?: readonly Uint8Array[];
  /** SignerInfo.digestAlgorithm (default: the hash's OID, parameters absent). */
  digestAlgorithm?: Uint8Array;
  /** SignerInfo.signatureAlgorithm (default: as the sealer writes it for the key and hash). */
  signatureAlgorithm?: Uint8Array;
  /** Extra CertificateChoices entries (already encoded) for the `certificates` SET. */
  extraCertificateChoices?: readonly Uint8Array[];
}

export interface TokenOverrides extends SignerOverrides {
  tstInfoVersion?: number;
  /** messageImprint.hashAlgorithm (default: the imprint hash's OID, parameters absent). */
  imprintAlgorithm?: Uint8Array;
  /** The hash the imprint is computed with (default sha256). */
  imprintHash?: NodeHash;
  /** The hashedMessage (default: the imprint hash of the signature value). */
  hashedMessage?: Uint8Array;
}

export interface BuildOptions {
  proof?: SignerOverrides;
  token?: TokenOverrides;
  content?: Uint8Array;
}

export const hashAlgorithmId = (hash: NodeHash, parameters?: Uint8Array) => sequence(oid(HASH_OID[hash]), ...(parameters ? [parameters] : []));

/** The signatureAlgorithm the sealer writes: ecdsa-with-SHAn (parameters absent) or shanWithRSAEncryption (NULL). */
export function defaultSignatureAlgorithm(family: 'RSA' | 'ECDSA', hash: NodeHash): Uint8Array {
  if (family === 'ECDSA') {
    const ecdsa: Record<NodeHash, string> = { sha1: '1.2.840.10045.4.1', sha256: OID.ecdsaWithSHA256, sha384: OID.ecdsaWithSHA384, sha512: OID.ecdsaWithSHA512 };
    return sequence(oid(ecdsa[hash]));
  }
  const rsa: Record<NodeHash, string> = { sha1: '1.2.840.113549.1.1.5', sha256: OID.sha256WithRSAEncryption, sha384: OID.sha384WithRSAEncryption, sha512: OID.sha512WithRSAEncryption };
  return sequence(oid(rsa[hash]), derNull());
}

const h = (hash: NodeHash, data: Uint8Array) => new Uint8Array(createHash(hash).update(data).digest());

function signWith(key: KeyObject, family: 'RSA' | 'ECDSA', hash: NodeHash, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(hash, data, family === 'ECDSA' ? { key, dsaEncoding: 'der' } : key));
}

/** A SignedData in its ContentInfo, one SignerInfo signed by `key` over `attributes`. */
function signedData(
  o: SignerOverrides,
  defaults: { version: number; eContentType: string; eContent: Uint8Array; certificates: Uint8Array[] },
  signer: CertificateView,
  key: KeyObject,
  signedAttributes: (hash: NodeHash) => Uint8Array[],
  unsigned: (signature: Uint8Array) => Uint8Array[],
): { der: Uint8Array; signature: Uint8Array } {
  const hash = o.hash ?? 'sha256';
  const family = signer.publicKey.family;
  const digestAlgorithm = o.digestAlgorithm ?? hashAlgorithmId(hash);
  const attrs = signedAttributes(hash);
  const signature = signWith(key, family, hash, setOf(attrs));
  const unsignedAttrs = unsigned(signature);
  const signerInfo = sequence(
    integer(o.signerInfoVersion ?? 1),
    sequence(signer.issuer, signer.serialNumberDer),
    digestAlgorithm,
    implicit(0, setOf(attrs)),
    o.signatureAlgorithm ?? defaultSignatureAlgorithm(family, hash),
    octetString(signature),
    ...(unsignedAttrs.length ? [implicit(1, setOf(unsignedAttrs))] : []),
  );
  const sd = sequence(
    integer(o.signedDataVersion ?? defaults.version),
    setOf(o.digestAlgorithms ?? [digestAlgorithm]),
    sequence(oid(defaults.eContentType), explicit(0, octetString(defaults.eContent))),
    implicit(0, setOf([...defaults.certificates, ...(o.extraCertificateChoices ?? [])])),
    setOf([signerInfo]),
  );
  return { der: sequence(oid(OID.signedData), explicit(0, sd)), signature };
}

/** A signature time-stamp token over `signatureValue`, signed with the PKI's TSA key. */
export function buildToken(pki: DevPki, signatureValue: Uint8Array, o: TokenOverrides = {}, genTime = new Date()): Uint8Array {
  const tsa = parseCertificate(pki.tsa.certificate);
  const imprintHash = o.imprintHash ?? 'sha256';
  const tstInfo = sequence(
    integer(o.tstInfoVersion ?? 1),
    oid('1.3.6.1.4.1.99999.1.3161'),
    sequence(o.imprintAlgorithm ?? hashAlgorithmId(imprintHash), octetString(o.hashedMessage ?? h(imprintHash, signatureValue))),
    integer(BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))),
    generalizedTime(genTime),
  );
  const key = createPrivateKey({ key: Buffer.from(pki.tsaKeyPkcs8), format: 'der', type: 'pkcs8' });
  return signedData(
    o,
    { version: 3, eContentType: OID.tstInfo, eContent: tstInfo, certificates: [pki.tsa.certificate] },
    tsa,
    key,
    (hash) => [encodeAttribute(OID.contentType, [oid(OID.tstInfo)]), encodeAttribute(OID.messageDigest, [octetString(h(hash, tstInfo))]), signingCertificateV2Attribute(tsa)],
    () => [],
  ).der;
}

/** A CAdES-B-T proof of `content` sealed with the PKI's keys, with the overrides applied. */
export function buildProof(pki: DevPki, options: BuildOptions = {}): Uint8Array {
  const o = options.proof ?? {};
  const content = options.content ?? new TextEncoder().encode('{"Version":"1"}');
  const seal = parseCertificate(pki.seal.certificate);
  const key = createPrivateKey({ key: Buffer.from(pki.sealKeyPkcs8), format: 'der', type: 'pkcs8' });
  const now = Date.now();
  const signingTime = new Date(Math.floor(now / 1000) * 1000 - 2000);
  return signedData(
    o,
    { version: 1, eContentType: OID.data, eContent: content, certificates: [pki.seal.certificate, pki.root.certificate] },
    seal,
    key,
    (hash) => [
      encodeAttribute(OID.contentType, [oid(OID.data)]),
      encodeAttribute(OID.signingTime, [utcTime(signingTime)]),
      encodeAttribute(OID.messageDigest, [octetString(h(hash, content))]),
      signingCertificateV2Attribute(seal),
    ],
    (signature) => [encodeAttribute(OID.signatureTimeStampToken, [buildToken(pki, signature, options.token, new Date(now))])],
  ).der;
}
