/**
 * Loading the service's signing identities from files, for operators.
 *
 * Two sources:
 * - PEM: a PKCS#8 private key (`PRIVATE KEY`; SEC1 `EC PRIVATE KEY` and PKCS#1 `RSA PRIVATE
 *   KEY` are converted), a certificate file with the leaf first and then its chain, and an
 *   optional file of further chain certificates;
 * - PKCS#12 (RFC 7292) with its password.
 *
 * A file holding a private key is refused when group or others have any permission on it
 * (mode & 0o077), checked with stat before it is read. Nothing secret appears in an error.
 */
import fs from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { parseCertificate } from './Certificate.js';
import { DerError, equalBytes, readDer } from './der.js';
import { defaultCrypto } from './webcrypto.js';
import { pemBlocks } from './pem.js';
import { Pkcs12PasswordError, readPkcs12 } from './Pkcs12.js';
import { importPkcs8, keyMatchesCertificate, orderChain, publicKeyOfPkcs8, type SigningIdentity } from './SigningIdentity.js';

export type KeyFileErrorCode =
  | 'KEY_FILE_PERMISSIONS'
  | 'KEY_FILE_UNREADABLE'
  | 'KEY_FORMAT'
  | 'CERT_FORMAT'
  | 'CERT_KEY_MISMATCH'
  | 'P12_PASSWORD';

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  constructor(
    readonly code: KeyFileErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type SigningIdentitySource = { keyFile: string; certFile: string; chainFile?: string } | { p12File: string; password: string };

/** Reads a file that holds a private key, refusing it when its mode lets group or others in. */
export async function readPrivateFile(file: string): Promise<Buffer> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    throw new KeyFileError('KEY_FILE_UNREADABLE', `cannot stat key file ${file}`, { cause: err });
  }
  if (!stat.isFile()) throw new KeyFileError('KEY_FILE_UNREADABLE', `key file ${file} is not a regular file`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new KeyFileError(
      'KEY_FILE_PERMISSIONS',
      `key file ${file} has mode ${(stat.mode & 0o777).toString(8).padStart(4, '0')}; group and others must have no access (chmod 600)`,
    );
  }
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new KeyFileError('KEY_FILE_UNREADABLE', `cannot read key file ${file}`, { cause: err });
  }
}

async function readPublicFile(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new KeyFileError('KEY_FILE_UNREADABLE', `cannot read certificate file ${file}`, { cause: err });
  }
}

/** The certificates (DER) in a file of PEM CERTIFICATE blocks or a single DER certificate, in file order. */
export async function readCertificateFile(file: string): Promise<Uint8Array[]> {
  return certificatesFrom(await readPublicFile(file), file);
}

/** PKCS#8 DER from a PEM key file. */
function privateKeyFromPem(text: string, file: string): Uint8Array {
  let blocks;
  try {
    blocks = pemBlocks(text);
  } catch (err) {
    throw new KeyFileError('KEY_FORMAT', `key file ${file} is not valid PEM`, { cause: err });
  }
  const keys = blocks.filter((b) => /PRIVATE KEY$/.test(b.label));
  if (keys.length !== 1) throw new KeyFileError('KEY_FORMAT', `key file ${file} must hold exactly one PEM private key, found ${keys.length}`);
  const block = keys[0]!;
  switch (block.label) {
    case 'PRIVATE KEY':
      return block.der;
    case 'EC PRIVATE KEY':
    case 'RSA PRIVATE KEY':
      try {
        const type = block.label === 'EC PRIVATE KEY' ? 'sec1' : 'pkcs1';
        return new Uint8Array(createPrivateKey({ key: Buffer.from(block.der), format: 'der', type }).export({ type: 'pkcs8', format: 'der' }));
      } catch (err) {
        throw new KeyFileError('KEY_FORMAT', `key file ${file}: unreadable ${block.label}`, { cause: err });
      }
    case 'ENCRYPTED PRIVATE KEY':
      throw new KeyFileError('KEY_FORMAT', `key file ${file} holds an encrypted PKCS#8 key; decrypt it (openssl pkey) or use a PKCS#12 file with a password`);
    default:
      throw new KeyFileError('KEY_FORMAT', `key file ${file}: unsupported PEM label "${block.label}"`);
  }
}

/** Certificates (DER) from a file of PEM CERTIFICATE blocks, or a single DER certificate. */
function certificatesFrom(content: Buffer, file: string): Uint8Array[] {
  let certs: Uint8Array[];
  try {
    const text = content.toString('latin1');
    certs = text.includes('-----BEGIN') ? pemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => b.der) : [new Uint8Array(content)];
    for (const c of certs) parseCertificate(c);
  } catch (err) {
    throw new KeyFileError('CERT_FORMAT', `certificate file ${file} holds something other than DER X.509 certificates`, { cause: err });
  }
  if (certs.length === 0) throw new KeyFileError('CERT_FORMAT', `certificate file ${file} holds no CERTIFICATE block`);
  return certs;
}

async function identityFrom(pkcs8: Uint8Array, leaf: Uint8Array, others: Uint8Array[], where: string, crypto: Crypto): Promise<SigningIdentity> {
  let imported;
  try {
    readDer(pkcs8);
    imported = await importPkcs8(pkcs8, { crypto });
  } catch (err) {
    const detail = err instanceof RangeError || err instanceof DerError ? `: ${err.message}` : '';
    throw new KeyFileError('KEY_FORMAT', `${where}: the private key cannot be used${detail}`, { cause: err });
  }
  if (!(await keyMatchesCertificate(imported.privateKey, imported.algorithm, leaf, crypto))) {
    throw new KeyFileError('CERT_KEY_MISMATCH', `${where}: the certificate does not certify the private key`);
  }
  return { algorithm: imported.algorithm, privateKey: imported.privateKey, certificate: leaf, chain: orderChain(leaf, others) };
}

/**
 * Loads a signing identity from PEM files or a PKCS#12 file. Throws KeyFileError with a code
 * naming what is wrong.
 */
export async function loadSigningIdentity(source: SigningIdentitySource, crypto: Crypto = defaultCrypto()): Promise<SigningIdentity> {
  if ('p12File' in source) {
    const content = await readPrivateFile(source.p12File);
    let p12;
    try {
      p12 = readPkcs12(new Uint8Array(content), source.password);
    } catch (err) {
      if (err instanceof Pkcs12PasswordError) throw new KeyFileError('P12_PASSWORD', `PKCS#12 file ${source.p12File}: wrong password`, { cause: err });
      throw new KeyFileError(
        'KEY_FORMAT',
        `PKCS#12 file ${source.p12File} cannot be read (readable: the OpenSSL 3 default PBES2/PBKDF2 with AES-256-CBC and a SHA-256 MAC, PBE-SHA1-3DES, and -legacy RC2/3DES)`,
        { cause: err },
      );
    }
    let certs: Uint8Array[];
    try {
      certs = p12.certificates;
      for (const c of certs) parseCertificate(c);
    } catch (err) {
      throw new KeyFileError('CERT_FORMAT', `PKCS#12 file ${source.p12File}: a certificate is not DER X.509`, { cause: err });
    }
    // The leaf is the certificate whose public key is the private key's.
    let spki: Uint8Array;
    try {
      spki = publicKeyOfPkcs8(p12.privateKeyPkcs8);
    } catch (err) {
      throw new KeyFileError('KEY_FORMAT', `PKCS#12 file ${source.p12File}: the private key cannot be used`, { cause: err });
    }
    const leaf = certs.find((c) => equalBytes(parseCertificate(c).publicKey.der, spki));
    if (!leaf) throw new KeyFileError('CERT_KEY_MISMATCH', `PKCS#12 file ${source.p12File} holds no certificate for its private key`);
    return identityFrom(p12.privateKeyPkcs8, leaf, certs, `PKCS#12 file ${source.p12File}`, crypto);
  }

  const keyText = (await readPrivateFile(source.keyFile)).toString('latin1');
  const pkcs8 = privateKeyFromPem(keyText, source.keyFile);
  const certs = certificatesFrom(await readPublicFile(source.certFile), source.certFile);
  const extra = source.chainFile ? certificatesFrom(await readPublicFile(source.chainFile), source.chainFile) : [];
  const [leaf, ...chain] = certs;
  return identityFrom(pkcs8, leaf!, [...chain, ...extra], `key file ${source.keyFile}`, crypto);
}
