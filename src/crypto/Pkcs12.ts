/**
 * Reading a PKCS#12 file (RFC 7292) with node-forge.
 *
 * ```asn1
 * PFX ::= SEQUENCE { version INTEGER {v3(3)}, authSafe ContentInfo, macData MacData OPTIONAL }
 * SafeBag ::= SEQUENCE { bagId BAG-TYPE.&id, bagValue [0] EXPLICIT BAG-TYPE.&Type, bagAttributes SET OF PKCS12Attribute OPTIONAL }
 * KeyBag ::= PrivateKeyInfo                       -- RFC 5208
 * PKCS8ShroudedKeyBag ::= EncryptedPrivateKeyInfo  -- decrypted to a PrivateKeyInfo
 * ```
 *
 * node-forge's object model only knows RSA keys: for an EC key it leaves the key null and
 * keeps the decrypted PrivateKeyInfo ASN.1 in `bag.asn1`, which is what we take (for RSA the
 * PrivateKeyInfo is rebuilt from forge's key). Either way the result is PKCS#8 DER for WebCrypto.
 *
 * What forge reads (checked in test/unit/crypto/keys.spec.ts against OpenSSL 3.0, RSA and
 * EC keys): the OpenSSL 3 default (PBES2/PBKDF2-HMAC-SHA256 with AES-256-CBC, SHA-256 MAC),
 * `-keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES`, and `-legacy` (RC2-40 certificates).
 */
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

/** node-forge (~11 MB), loaded only when a PKCS#12 file is read. */
let forgeModule: typeof Forge | undefined;
const loadForge = (): typeof Forge => (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof Forge);

export class Pkcs12PasswordError extends Error {
  override readonly name = 'Pkcs12PasswordError';
}

export interface Pkcs12Contents {
  /** The private key as PKCS#8 PrivateKeyInfo DER. */
  privateKeyPkcs8: Uint8Array;
  /** Every certificate in the file, DER, in file order. */
  certificates: Uint8Array[];
}

const toBinary = (bytes: Uint8Array) => Buffer.from(bytes).toString('binary');
const fromBinary = (binary: string) => new Uint8Array(Buffer.from(binary, 'binary'));

/** Throws Pkcs12PasswordError for a wrong password, another Error for anything else. */
export function readPkcs12(der: Uint8Array, password: string): Pkcs12Contents {
  const forge = loadForge();
  const asn1 = forge.asn1.fromDer(toBinary(der));
  let p12: Forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, true, password);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/MAC could not be verified|Invalid password|wrong password/i.test(message)) throw new Pkcs12PasswordError('wrong PKCS#12 password', { cause: err });
    throw err;
  }

  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag! })[forge.pki.oids.pkcs8ShroudedKeyBag!] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag! })[forge.pki.oids.keyBag!] ?? []),
  ];
  if (keyBags.length !== 1) throw new Error(`PKCS#12 holds ${keyBags.length} private keys; exactly one is needed`);
  const bag = keyBags[0]!;
  let privateKeyInfo: Forge.asn1.Asn1;
  if (bag.key) {
    privateKeyInfo = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key));
  } else if (bag.asn1) {
    privateKeyInfo = bag.asn1;
  } else {
    throw new Error('PKCS#12 key bag holds no key');
  }

  const certBags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const certificates = certBags.map((b) => {
    const certAsn1 = b.cert ? forge.pki.certificateToAsn1(b.cert) : b.asn1;
    if (!certAsn1) throw new Error('PKCS#12 certificate bag holds no certificate');
    return fromBinary(forge.asn1.toDer(certAsn1).getBytes());
  });
  return { privateKeyPkcs8: fromBinary(forge.asn1.toDer(privateKeyInfo).getBytes()), certificates };
}
