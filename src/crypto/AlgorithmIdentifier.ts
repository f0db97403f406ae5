/**
 * Algorithms and their identifiers.
 *
 * ```asn1
 * AlgorithmIdentifier ::= SEQUENCE {                          -- RFC 5280 §4.1.1.2
 *   algorithm   OBJECT IDENTIFIER,
 *   parameters  ANY DEFINED BY algorithm OPTIONAL }
 * ```
 *
 * Encoding rules followed when this layer writes one:
 * - SHA-2 digest algorithms: parameters absent (RFC 5754 §2).
 * - sha256WithRSAEncryption: parameters NULL (RFC 4055 §5; pkijs omits them:
 *   docs/cades-profile.md).
 * - ecdsa-with-SHA256: parameters absent (RFC 5758 §3.2).
 *
 * Every key algorithm signs with SHA-256, so one proof has one digest algorithm throughout
 * (CMS digestAlgorithms = {sha256}); P-384 with SHA-256 is permitted (RFC 5480 §4 only
 * recommends matching strengths).
 */
import { createHash } from 'node:crypto';
import { DerError, DerSequence, Tag, derNull, oid, readOid, sequence, type DerNode } from './der.js';
import { OID } from './oids.js';

export type KeyAlgorithm = 'ECDSA-P256' | 'ECDSA-P384' | 'RSA-2048' | 'RSA-3072';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ECDSA-P256', 'ECDSA-P384', 'RSA-2048', 'RSA-3072'];

export type HashName = 'SHA-256' | 'SHA-384' | 'SHA-512';

const HASHES: Record<HashName, { oid: string; length: number; node: string }> = {
  'SHA-256': { oid: OID.sha256, length: 32, node: 'sha256' },
  'SHA-384': { oid: OID.sha384, length: 48, node: 'sha384' },
  'SHA-512': { oid: OID.sha512, length: 64, node: 'sha512' },
};

/** The SHA-2 hash named by `oid`, or undefined for any other algorithm. */
export function hashByOid(oidValue: string): HashName | undefined {
  return (Object.keys(HASHES) as HashName[]).find((h) => HASHES[h].oid === oidValue);
}

export function hashOid(hash: HashName): string {
  return HASHES[hash].oid;
}

export function hashLength(hash: HashName): number {
  return HASHES[hash].length;
}

/** Hashing needs no key, so it uses node:crypto directly (synchronous, and the same bytes as any engine). */
export function digest(hash: HashName | 'SHA-1', data: Uint8Array): Uint8Array {
  const name = hash === 'SHA-1' ? 'sha1' : HASHES[hash].node;
  return new Uint8Array(createHash(name).update(data).digest());
}

/** DigestAlgorithmIdentifier for a SHA-2 hash: parameters absent (RFC 5754 §2). */
export function digestAlgorithmIdentifier(hash: HashName): Uint8Array {
  return sequence(oid(HASHES[hash].oid));
}

export interface AlgorithmSpec {
  algorithm: KeyAlgorithm;
  family: 'ECDSA' | 'RSA';
  /** Short name for file and directory names (dev PKI). */
  dirName: string;
  /** Human label for certificate names. */
  label: string;
  generate: RsaHashedKeyGenParams | EcKeyGenParams;
  importParams: RsaHashedImportParams | EcKeyImportParams;
  signParams: AlgorithmIdentifier | EcdsaParams;
  /** The DER AlgorithmIdentifier of the signatures this key makes. */
  signatureAlgorithm: Uint8Array;
}

const RSA_EXPONENT = Uint8Array.of(1, 0, 1);

function rsa(bits: number): AlgorithmSpec {
  return {
    algorithm: `RSA-${bits}` as KeyAlgorithm,
    family: 'RSA',
    dirName: `rsa${bits}`,
    label: `RSA-${bits}`,
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: RSA_EXPONENT, hash: 'SHA-256' },
    importParams: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    signParams: { name: 'RSASSA-PKCS1-v1_5' },
    signatureAlgorithm: sequence(oid(OID.sha256WithRSAEncryption), derNull()),
  };
}

function ecdsa(curve: 'P-256' | 'P-384'): AlgorithmSpec {
  return {
    algorithm: curve === 'P-256' ? 'ECDSA-P256' : 'ECDSA-P384',
    family: 'ECDSA',
    dirName: curve === 'P-256' ? 'p256' : 'p384',
    label: curve,
    generate: { name: 'ECDSA', namedCurve: curve },
    importParams: { name: 'ECDSA', namedCurve: curve },
    signParams: { name: 'ECDSA', hash: 'SHA-256' },
    signatureAlgorithm: sequence(oid(OID.ecdsaWithSHA256)),
  };
}

const SPECS: Record<KeyAlgorithm, AlgorithmSpec> = {
  'ECDSA-P256': ecdsa('P-256'),
  'ECDSA-P384': ecdsa('P-384'),
  'RSA-2048': rsa(2048),
  'RSA-3072': rsa(3072),
};

export function algorithmSpec(algorithm: KeyAlgorithm): AlgorithmSpec {
  const spec = SPECS[algorithm];
  if (!spec) throw new RangeError(`unsupported key algorithm: ${String(algorithm)}`);
  return spec;
}

export function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return typeof value === 'string' && (KEY_ALGORITHMS as readonly string[]).includes(value);
}

/** A decoded AlgorithmIdentifier. */
export interface AlgorithmIdentifierValue {
  oid: string;
  /** The parameters' encoding, when present. */
  parameters?: DerNode;
}

export function readAlgorithmIdentifier(node: DerNode, what = 'AlgorithmIdentifier'): AlgorithmIdentifierValue {
  const s = new DerSequence(node, what);
  const algorithm = readOid(s.next(Tag.OBJECT_IDENTIFIER, 'algorithm'), what);
  const parameters = node.children[1];
  if (node.children.length > 2) throw new DerError(`${what}: unexpected component`);
  return parameters ? { oid: algorithm, parameters } : { oid: algorithm };
}

/** True when the parameters are absent or NULL, the two forms a hash AlgorithmIdentifier may take (RFC 5754 §2). */
export function hasNoOrNullParameters(alg: AlgorithmIdentifierValue): boolean {
  return alg.parameters === undefined || alg.parameters.tag === Tag.NULL;
}
