/**
 * Who signs a proof or a time-stamp token: a certificate (and its chain), the signature
 * algorithm identifier its SignerInfo carries, and a `sign` that returns the signature value.
 * The writers (SignerTemplate.ts, CadesT.ts, TimeStampTokenTemplate.ts) know nothing else of
 * the key: no private key octets pass through this interface, and `sign` is asynchronous, so
 * a key that lives in a token (PKCS#11, an HSM over the network) implements it as it is.
 *
 * Implemented here by
 * - `KeyObjectSigner`: a key held in this process as a node:crypto `KeyObject` (what
 *   `loadSigningIdentity` and the development PKI give). It also signs synchronously
 *   (`signSync`), which lets the sealer and the TSA write a whole proof or token without
 *   leaving the thread, and it can be posted to a worker thread (`identity`);
 * - `WebCryptoSigner`: a `CryptoKey` of another WebCrypto engine, which node:crypto cannot
 *   use directly; asynchronous only, as a token's key would be.
 */
import { KeyObject, sign as nativeSign } from 'node:crypto';
import { algorithmSpec, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { signBytes } from './Signature.js';
import type { SigningIdentity } from './SigningIdentity.js';

export interface Signer {
  readonly algorithm: KeyAlgorithm;
  /** The signer's certificate, DER. */
  readonly certificate: Uint8Array;
  /** Issuer certificates, DER: the certificate's issuer first, up to and including the root. */
  readonly chain: readonly Uint8Array[];
  /**
   * SignerInfo.signatureAlgorithm, DER: ecdsa-with-SHA256 (parameters absent) or
   * sha256WithRSAEncryption (parameters NULL); see docs/cades-profile.md.
   */
  readonly signatureAlgorithm: Uint8Array;
  /**
   * The signature with SHA-256 over `data`, as CMS carries it (RFC 5652 §5.5): for ECDSA the
   * Ecdsa-Sig-Value DER (RFC 3279 §2.2.3; a token that answers r‖s is converted with
   * `ecdsaSigValueFromP1363`), for RSA the PKCS #1 v1.5 signature.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
  /** The same, without waiting: present only when the key is in this process. */
  signSync?(data: Uint8Array): Uint8Array;
}

/** A key held in this process, with its certificates: what a worker thread is sent (KeyObjects can be posted). */
export interface NativeSigningIdentity {
  algorithm: KeyAlgorithm;
  key: KeyObject;
  certificate: Uint8Array;
  chain: Uint8Array[];
}

/** The node:crypto private key behind a WebCrypto key, or undefined when node's engine did not make it. */
export function nativePrivateKey(key: CryptoKey | KeyObject): KeyObject | undefined {
  if (key instanceof KeyObject) return key;
  try {
    const k = KeyObject.from(key);
    return k.type === 'private' ? k : undefined;
  } catch {
    return undefined;
  }
}

const NODE_HASH = 'sha256';

export class KeyObjectSigner implements Signer {
  readonly algorithm: KeyAlgorithm;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly signatureAlgorithm: Uint8Array;
  private readonly key: KeyObject;
  private readonly ecdsa: boolean;

  constructor(readonly identity: NativeSigningIdentity) {
    if (identity.key.type !== 'private') throw new TypeError('KeyObjectSigner needs a private key');
    this.algorithm = identity.algorithm;
    this.certificate = identity.certificate;
    this.chain = identity.chain;
    this.key = identity.key;
    const spec = algorithmSpec(identity.algorithm);
    this.signatureAlgorithm = spec.signatureAlgorithm;
    this.ecdsa = spec.family === 'ECDSA';
  }

  /** Native signing: OpenSSL writes the Ecdsa-Sig-Value DER itself (`dsaEncoding: 'der'`). */
  signSync(data: Uint8Array): Buffer {
    return this.ecdsa ? nativeSign(NODE_HASH, data, { key: this.key, dsaEncoding: 'der' }) : nativeSign(NODE_HASH, data, this.key);
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return this.signSync(data);
  }
}

/** A key of another WebCrypto engine: signs through `crypto.subtle` (P1363 → Ecdsa-Sig-Value). */
export class WebCryptoSigner implements Signer {
  readonly algorithm: KeyAlgorithm;
  readonly certificate: Uint8Array;
  readonly chain: readonly Uint8Array[];
  readonly signatureAlgorithm: Uint8Array;

  constructor(
    private readonly identity: SigningIdentity,
    private readonly crypto: Crypto,
  ) {
    this.algorithm = identity.algorithm;
    this.certificate = identity.certificate;
    this.chain = identity.chain;
    this.signatureAlgorithm = algorithmSpec(identity.algorithm).signatureAlgorithm;
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    return signBytes(this.identity.privateKey, this.identity.algorithm, data, this.crypto);
  }
}

/**
 * The signer for an identity: a `Signer` as it is; a key node:crypto can use as a
 * `KeyObjectSigner`; a key of another WebCrypto engine through that engine, given as `crypto`
 * (without it, TypeError: node's own engine cannot use such a key).
 */
export function signerFor(identity: SigningIdentity | Signer, crypto?: Crypto): Signer {
  if ('sign' in identity) return identity;
  const key = nativePrivateKey(identity.privateKey);
  if (key) return new KeyObjectSigner({ algorithm: identity.algorithm, key, certificate: identity.certificate, chain: identity.chain });
  if (!crypto) throw new TypeError('the private key is not a node:crypto key: give its WebCrypto engine (or a Signer)');
  return new WebCryptoSigner(identity, crypto);
}
