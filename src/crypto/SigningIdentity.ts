/**
 * A signing identity: a private key, its certificate and the issuers up to the root.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { algorithmSpec, readAlgorithmIdentifier, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { parseCertificate } from './Certificate.js';
import { equalBytes, readDer } from './der.js';
import { bufferSource, defaultCrypto } from './webcrypto.js';
import { verifyBytes, signBytes } from './Signature.js';

export interface SigningIdentity {
  algorithm: KeyAlgorithm;
  /** WebCrypto key; non-extractable is fine. */
  privateKey: CryptoKey;
  /** The leaf certificate, DER. */
  certificate: Uint8Array;
  /** Issuer certificates, DER: the leaf's issuer first, up to and including the root. */
  chain: Uint8Array[];
}

/** Which KeyAlgorithm a PKCS#8 PrivateKeyInfo holds (node:crypto parses it), or undefined if unsupported. */
export function keyAlgorithmOfPkcs8(pkcs8: Uint8Array): KeyAlgorithm | undefined {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if (details.modulusLength === 2048) return 'RSA-2048';
    if (details.modulusLength === 3072) return 'RSA-3072';
  }
  if (key.asymmetricKeyType === 'ec') {
    if (details.namedCurve === 'prime256v1') return 'ECDSA-P256';
    if (details.namedCurve === 'secp384r1') return 'ECDSA-P384';
  }
  return undefined;
}

/** The SubjectPublicKeyInfo DER of the public half of a PKCS#8 private key. */
export function publicKeyOfPkcs8(pkcs8: Uint8Array): Uint8Array {
  const key = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' });
  return new Uint8Array(createPublicKey(key).export({ type: 'spki', format: 'der' }));
}

/** Imports a PKCS#8 key for signing; throws RangeError for a key algorithm this layer does not support. */
export async function importPkcs8(pkcs8: Uint8Array, options: { extractable?: boolean; crypto?: Crypto } = {}): Promise<{ privateKey: CryptoKey; algorithm: KeyAlgorithm }> {
  const algorithm = keyAlgorithmOfPkcs8(pkcs8);
  if (!algorithm) throw new RangeError('unsupported private key: use ECDSA P-256/P-384 or RSA 2048/3072');
  const crypto = options.crypto ?? defaultCrypto();
  const privateKey = await crypto.subtle.importKey('pkcs8', bufferSource(pkcs8), algorithmSpec(algorithm).importParams, options.extractable ?? false, ['sign']);
  return { privateKey, algorithm };
}

/** Whether the certificate certifies this private key: a probe is signed and verified with the certificate's key. */
export async function keyMatchesCertificate(privateKey: CryptoKey, algorithm: KeyAlgorithm, certificate: Uint8Array, crypto: Crypto = defaultCrypto()): Promise<boolean> {
  const cert = parseCertificate(certificate);
  if (cert.publicKey.keyAlgorithm !== algorithm) return false;
  const probe = crypto.getRandomValues(new Uint8Array(32));
  const signature = await signBytes(privateKey, algorithm, probe, crypto);
  const signatureAlgorithm = readAlgorithmIdentifier(readDer(algorithmSpec(algorithm).signatureAlgorithm));
  const result = await verifyBytes(cert.publicKey, signatureAlgorithm, 'SHA-256', probe, signature, crypto);
  return result.valid;
}

/**
 * Orders issuer certificates from the leaf's issuer up to the root by following issuer →
 * subject names; duplicates and the leaf itself are dropped, certificates outside the path
 * are kept at the end.
 */
export function orderChain(leaf: Uint8Array, others: readonly Uint8Array[]): Uint8Array[] {
  const pool = others.filter((c, i) => !equalBytes(c, leaf) && others.findIndex((d) => equalBytes(c, d)) === i);
  const ordered: Uint8Array[] = [];
  let current = parseCertificate(leaf);
  for (;;) {
    if (equalBytes(current.issuer, current.subject)) break;
    const issuer = current.issuer;
    const next = pool.findIndex((c) => equalBytes(parseCertificate(c).subject, issuer));
    if (next < 0) break;
    const [cert] = pool.splice(next, 1);
    ordered.push(cert!);
    current = parseCertificate(cert!);
  }
  return [...ordered, ...pool];
}
