/**
 * ```asn1
 * SubjectPublicKeyInfo ::= SEQUENCE {                          -- RFC 5280 §4.1.2.7
 *   algorithm         AlgorithmIdentifier,
 *   subjectPublicKey  BIT STRING }
 * RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }   -- RFC 8017 A.1.1
 * ECParameters ::= CHOICE { namedCurve OBJECT IDENTIFIER, ... }            -- RFC 5480 §2.1.1
 * ```
 */
import type { HashName, KeyAlgorithm } from './AlgorithmIdentifier.js';
import { readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import { DerError, DerSequence, Tag, readBitString, readDer, readOid, type DerNode } from './der.js';
import { bufferSource, defaultCrypto } from './webcrypto.js';
import { OID } from './oids.js';

export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

export interface PublicKeyInfo {
  /** The SubjectPublicKeyInfo DER. */
  der: Uint8Array;
  family: 'RSA' | 'ECDSA';
  curve?: NamedCurve;
  modulusBits?: number;
  /** The KeyAlgorithm this layer names the key by, when it is one it supports. */
  keyAlgorithm?: KeyAlgorithm;
  /** The subjectPublicKey bits (what a subjectKeyIdentifier hashes, RFC 5280 §4.2.1.2). */
  subjectPublicKey: Uint8Array;
}

const CURVES: Record<string, NamedCurve> = {
  [OID.prime256v1]: 'P-256',
  [OID.secp384r1]: 'P-384',
  [OID.secp521r1]: 'P-521',
};

export function readSubjectPublicKeyInfo(input: Uint8Array | DerNode): PublicKeyInfo {
  const node = input instanceof Uint8Array ? readDer(input) : input;
  const s = new DerSequence(node, 'SubjectPublicKeyInfo');
  const alg = readAlgorithmIdentifier(s.next(Tag.SEQUENCE, 'algorithm'), 'SubjectPublicKeyInfo.algorithm');
  const { bytes, unusedBits } = readBitString(s.next(Tag.BIT_STRING, 'subjectPublicKey'));
  s.end();
  if (unusedBits !== 0) throw new DerError('SubjectPublicKeyInfo: subjectPublicKey has unused bits');
  if (alg.oid === OID.rsaEncryption) {
    const key = new DerSequence(readDer(bytes), 'RSAPublicKey');
    const modulus = key.next(Tag.INTEGER, 'modulus').content;
    key.next(Tag.INTEGER, 'publicExponent');
    key.end();
    let i = 0;
    while (i < modulus.length - 1 && modulus[i] === 0) i++;
    const modulusBits = (modulus.length - i - 1) * 8 + (32 - Math.clz32(modulus[i]!));
    const keyAlgorithm = modulusBits === 2048 ? 'RSA-2048' : modulusBits === 3072 ? 'RSA-3072' : undefined;
    return { der: node.bytes, family: 'RSA', modulusBits, subjectPublicKey: bytes, ...(keyAlgorithm ? { keyAlgorithm } : {}) };
  }
  if (alg.oid === OID.ecPublicKey) {
    if (!alg.parameters) throw new DerError('SubjectPublicKeyInfo: EC key without namedCurve (RFC 5480 §2.1.1)');
    const curve = CURVES[readOid(alg.parameters, 'namedCurve')];
    if (!curve) throw new DerError('SubjectPublicKeyInfo: unsupported elliptic curve');
    const keyAlgorithm = curve === 'P-256' ? 'ECDSA-P256' : curve === 'P-384' ? 'ECDSA-P384' : undefined;
    return { der: node.bytes, family: 'ECDSA', curve, subjectPublicKey: bytes, ...(keyAlgorithm ? { keyAlgorithm } : {}) };
  }
  throw new DerError(`SubjectPublicKeyInfo: unsupported key algorithm ${alg.oid}`);
}

/** Imports the key for verifying; for RSA the hash is bound to the key in WebCrypto. */
export async function importPublicKey(info: PublicKeyInfo, hash: HashName, crypto: Crypto = defaultCrypto()): Promise<CryptoKey> {
  const params: RsaHashedImportParams | EcKeyImportParams =
    info.family === 'RSA' ? { name: 'RSASSA-PKCS1-v1_5', hash } : { name: 'ECDSA', namedCurve: info.curve! };
  return crypto.subtle.importKey('spki', bufferSource(info.der), params, false, ['verify']);
}
