/**
 * A development PKI: a self-signed root, a sealing certificate and a time-stamping (TSA)
 * certificate, for one key algorithm. Never for production: every name says DEV.
 *
 * Profile (RFC 5280): v3, positive random 127-bit serials, one attribute per RDN,
 * UTF8String names (country PrintableString), basicConstraints, keyUsage,
 * subjectKeyIdentifier and authorityKeyIdentifier on every certificate; the TSA certificate
 * has extendedKeyUsage id-kp-timeStamping only, marked critical (RFC 3161 §2.3). Validity
 * starts an hour ago; the root lasts 20 years, the others 10. The sealing and TSA certificates
 * carry a cRLDistributionPoints extension naming the root's CRL (`crlUrl`, RFC 5280 §4.2.1.13)
 * and, when asked, an authorityInfoAccess id-ad-ocsp naming the OCSP responder (`ocspUrl`,
 * §4.2.2.1). The
 * OCSP responder's own certificate is delegated by the root (id-kp-OCSPSigning, RFC 6960
 * §4.2.2.2) and carries id-pkix-ocsp-nocheck: its key is kept on disk like the sealing and TSA
 * keys, so the development publisher can answer OCSP requests without the root's key.
 *
 * The root issues a v2 CRL (Crl.ts): thisUpdate, nextUpdate, cRLNumber, authorityKeyIdentifier,
 * and an entry with reasonCode for each certificate revoked with `revokeDevCertificate` (tests:
 * the root's key is kept in memory only). The first CRL lists nothing, is number 1 and has its
 * next update when the leaf certificates expire: the root's key is not kept on disk, so no later
 * CRL can come.
 *
 * Files written by generateDevPki: root.pem, root.crl (DER), seal.pem, seal.key, tsa.pem,
 * tsa.key, ocsp.pem, ocsp.key. Private keys are PKCS#8 PEM with mode 0600; a created directory gets 0700. The
 * root's private key is not kept. A directory written before CRLs existed (no root.crl, leaf
 * certificates without a distribution point) is used as it is.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { algorithmSpec, type KeyAlgorithm } from './AlgorithmIdentifier.js';
import { issueCertificate, keyIdentifierFor, parseCertificate } from './Certificate.js';
import { crlDistributionPoints, issueCrl, type CrlIssuer, type CrlReason, type RevokedCertificate } from './Crl.js';
import { derNull, equalBytes } from './der.js';
import { authorityKeyIdentifier, basicConstraints, encodeExtension, extendedKeyUsage, keyUsage, subjectKeyIdentifier } from './CertificateExtensions.js';
import { authorityInfoAccessOcsp } from './Ocsp.js';
import { defaultCrypto } from './webcrypto.js';
import { encodeName } from './Name.js';
import { OID } from './oids.js';
import { derToPem } from './pem.js';
import { randomPositiveInteger } from './random.js';
import type { SigningIdentity } from './SigningIdentity.js';
import { readSubjectPublicKeyInfo } from './SubjectPublicKeyInfo.js';

export interface DevPkiPaths {
  root: string;
  /** The root's CRL, DER; absent from directories written before CRLs existed. */
  crl: string;
  sealCert: string;
  sealKey: string;
  tsaCert: string;
  tsaKey: string;
  /** The delegated OCSP responder's certificate and key; absent from directories written before OCSP. */
  ocspCert: string;
  ocspKey: string;
}

export interface DevPkiOptions {
  /**
   * How the TSA certificate's extendedKeyUsage is made. Only 'critical' (the default) gives a
   * certificate RFC 3161 §2.3 allows; the others exist to test that verifiers refuse them.
   */
  tsaExtendedKeyUsage?: 'critical' | 'non-critical' | 'absent' | 'extra-purpose';
  /** The moment validity is counted from (default: now). */
  now?: Date;
  /** The URL put in the leaf certificates' cRLDistributionPoints (default DEV_CRL_URL); null: none. */
  crlUrl?: string | null;
  /**
   * The URL put in the leaf certificates' AIA id-ad-ocsp (DEV_OCSP_URL for the publisher of
   * `npm start`); default none: a relying party that asks the responder a certificate names
   * (NSS — pdfsig —, Acrobat) counts the certificate as not trusted whenever nothing answers
   * there, so the URL is written only for a PKI meant for SEAL_REVOCATION=ocsp.
   */
  ocspUrl?: string | null;
}

/** Where the development PKI's publisher (dev/pki-publisher, started by `npm start`) serves the root's CRL. */
export const DEV_CRL_URL = 'http://127.0.0.1:8079/pki/root.crl';
/** Where the development PKI's publisher answers OCSP requests (RFC 6960 over HTTP POST). */
export const DEV_OCSP_URL = 'http://127.0.0.1:8079/pki/ocsp';

export interface DevPki {
  algorithm: KeyAlgorithm;
  root: DevRoot;
  /** The root's current CRL (DER), re-issued by revokeDevCertificate and issueDevCrl. */
  crl: Uint8Array;
  crlNumber: bigint;
  /** The entries of the current CRL. */
  revoked: RevokedCertificate[];
  seal: SigningIdentity;
  tsa: SigningIdentity;
  /** The delegated OCSP responder (id-kp-OCSPSigning, id-pkix-ocsp-nocheck), issued by the root. */
  ocsp: SigningIdentity;
  /** PKCS#8 DER of the sealing, TSA and OCSP responder keys. */
  sealKeyPkcs8: Uint8Array;
  tsaKeyPkcs8: Uint8Array;
  ocspKeyPkcs8: Uint8Array;
}

export interface DevRoot {
  certificate: Uint8Array;
  privateKey: CryptoKey;
  name: Uint8Array;
  keyIdentifier: Uint8Array;
}

const ORGANIZATION = 'Registered Mail DEV';
/** The first CRL's next update: when the leaf certificates expire. */
const FIRST_CRL_YEARS = 10;

function addYears(date: Date, years: number): Date {
  const d = new Date(date);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

async function generateKeyPair(algorithm: KeyAlgorithm, crypto: Crypto): Promise<{ privateKey: CryptoKey; spki: Uint8Array; pkcs8: Uint8Array }> {
  const pair = (await crypto.subtle.generateKey(algorithmSpec(algorithm).generate, true, ['sign', 'verify'])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', pair.publicKey));
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
  return { privateKey: pair.privateKey, spki, pkcs8 };
}

/** Creates a development PKI in memory. */
export async function createDevPki(algorithm: KeyAlgorithm, options: DevPkiOptions = {}, crypto: Crypto = defaultCrypto()): Promise<DevPki> {
  const sealKeys = await generateKeyPair(algorithm, crypto);
  const tsaKeys = await generateKeyPair(algorithm, crypto);
  const ocspKeys = await generateKeyPair(algorithm, crypto);
  const certs = await issueDevCertificates(algorithm, { seal: sealKeys.spki, tsa: tsaKeys.spki, ocsp: ocspKeys.spki }, options, crypto);
  return {
    algorithm,
    root: certs.root,
    crl: certs.crl,
    crlNumber: 1n,
    revoked: [],
    seal: { algorithm, privateKey: sealKeys.privateKey, certificate: certs.seal, chain: [certs.root.certificate] },
    tsa: { algorithm, privateKey: tsaKeys.privateKey, certificate: certs.tsa, chain: [certs.root.certificate] },
    ocsp: { algorithm, privateKey: ocspKeys.privateKey, certificate: certs.ocsp!, chain: [certs.root.certificate] },
    sealKeyPkcs8: sealKeys.pkcs8,
    tsaKeyPkcs8: tsaKeys.pkcs8,
    ocspKeyPkcs8: ocspKeys.pkcs8,
  };
}

/**
 * The development certificates for sealing and TSA keys held elsewhere (a PKCS#11 token): a
 * new root, and the two leaf certificates for the given SubjectPublicKeyInfos. The root's
 * private key is returned, never written.
 */
export async function createDevCertificates(
  algorithm: KeyAlgorithm,
  publicKeys: { seal: Uint8Array; tsa: Uint8Array },
  options: DevPkiOptions = {},
  crypto: Crypto = defaultCrypto(),
): Promise<{ root: Uint8Array; crl: Uint8Array; seal: Uint8Array; tsa: Uint8Array }> {
  const certs = await issueDevCertificates(algorithm, publicKeys, options, crypto);
  return { root: certs.root.certificate, crl: certs.crl, seal: certs.seal, tsa: certs.tsa };
}

function crlIssuer(pki: Pick<DevPki, 'algorithm' | 'root'>): CrlIssuer {
  return { name: pki.root.name, keyIdentifier: pki.root.keyIdentifier, privateKey: pki.root.privateKey, algorithm: pki.algorithm };
}

export interface DevCrlOptions {
  /** Default: now. */
  thisUpdate?: Date;
  /** Default: seven days after thisUpdate. */
  nextUpdate?: Date;
}

/** Issues the next CRL of the root (cRLNumber + 1) with the entries revoked so far; sets pki.crl. */
export async function issueDevCrl(pki: DevPki, options: DevCrlOptions = {}, crypto: Crypto = defaultCrypto()): Promise<Uint8Array> {
  const thisUpdate = options.thisUpdate ?? new Date();
  const nextUpdate = options.nextUpdate ?? new Date(thisUpdate.getTime() + 7 * 86_400_000);
  const crlNumber = pki.crlNumber + 1n;
  pki.crl = await issueCrl({ thisUpdate, nextUpdate, crlNumber, revoked: pki.revoked }, crlIssuer(pki), crypto);
  pki.crlNumber = crlNumber;
  return pki.crl;
}

/**
 * Revokes a certificate the root issued (for tests) and re-issues the CRL: the entry has
 * `revocationDate` (default now) and `reason` (default none, i.e. unspecified).
 */
export async function revokeDevCertificate(
  pki: DevPki,
  certificate: Uint8Array,
  revocation: { revocationDate?: Date; reason?: CrlReason } & DevCrlOptions = {},
  crypto: Crypto = defaultCrypto(),
): Promise<Uint8Array> {
  const cert = parseCertificate(certificate);
  if (!equalBytes(cert.issuer, pki.root.name)) throw new RangeError('the certificate was not issued by this development root');
  if (pki.revoked.some((r) => r.serialNumber === cert.serialNumber)) throw new RangeError('the certificate is revoked already');
  pki.revoked.push({ serialNumber: cert.serialNumber, revocationDate: revocation.revocationDate ?? new Date(), ...(revocation.reason ? { reason: revocation.reason } : {}) });
  return issueDevCrl(pki, revocation, crypto);
}

async function issueDevCertificates(
  algorithm: KeyAlgorithm,
  publicKeys: { seal: Uint8Array; tsa: Uint8Array; ocsp?: Uint8Array },
  options: DevPkiOptions,
  crypto: Crypto,
): Promise<{ root: DevRoot; crl: Uint8Array; seal: Uint8Array; tsa: Uint8Array; ocsp?: Uint8Array }> {
  const spec = algorithmSpec(algorithm);
  const now = options.now ?? new Date();
  const notBefore = new Date(now.getTime() - 3600_000);
  const name = (cn: string) => encodeName([
    { type: 'C', value: 'BE' },
    { type: 'O', value: ORGANIZATION },
    { type: 'CN', value: `${cn} ${spec.label}` },
  ]);

  const rootKeys = await generateKeyPair(algorithm, crypto);
  const rootName = name('Registered Mail DEV Root CA');
  const rootKeyId = keyIdentifierFor(readSubjectPublicKeyInfo(rootKeys.spki));
  const root = await issueCertificate(
    {
      serialNumber: randomPositiveInteger(16),
      subject: rootName,
      subjectPublicKeyInfo: rootKeys.spki,
      notBefore,
      notAfter: addYears(now, 20),
      extensions: [
        basicConstraints(true, 0),
        keyUsage(['keyCertSign', 'cRLSign']),
        subjectKeyIdentifier(rootKeyId),
        authorityKeyIdentifier(rootKeyId),
      ],
    },
    { name: rootName, privateKey: rootKeys.privateKey, algorithm },
    crypto,
  );
  const issuer = { name: rootName, privateKey: rootKeys.privateKey, algorithm };

  const crlUrl = options.crlUrl === undefined ? DEV_CRL_URL : options.crlUrl;
  // no responder (keys held in a PKCS#11 token: createDevCertificates), no OCSP URL in the certificates
  const ocspUrl = publicKeys.ocsp ? (options.ocspUrl ?? null) : null;
  const distribution = crlUrl === null ? [] : [crlDistributionPoints([crlUrl])];
  const access = ocspUrl === null ? [] : [authorityInfoAccessOcsp(ocspUrl)];
  const leaf = (cn: string, spki: Uint8Array, usage: Uint8Array[], revocation = [...access, ...distribution]) =>
    issueCertificate(
      {
        serialNumber: randomPositiveInteger(16),
        subject: name(cn),
        subjectPublicKeyInfo: spki,
        notBefore,
        notAfter: addYears(now, 10),
        extensions: [
          basicConstraints(false),
          ...usage,
          subjectKeyIdentifier(keyIdentifierFor(readSubjectPublicKeyInfo(spki))),
          authorityKeyIdentifier(rootKeyId),
          ...revocation,
        ],
      },
      issuer,
      crypto,
    );

  const seal = await leaf('Registered Mail DEV Sealing', publicKeys.seal, [keyUsage(['digitalSignature', 'nonRepudiation'])]);
  const tsaEku = options.tsaExtendedKeyUsage ?? 'critical';
  const tsaUsage = [keyUsage(['digitalSignature'])];
  if (tsaEku === 'critical') tsaUsage.push(extendedKeyUsage([OID.kpTimeStamping], true));
  if (tsaEku === 'non-critical') tsaUsage.push(extendedKeyUsage([OID.kpTimeStamping], false));
  if (tsaEku === 'extra-purpose') tsaUsage.push(extendedKeyUsage([OID.kpTimeStamping, OID.kpEmailProtection], true));
  const tsa = await leaf('Registered Mail DEV Time-Stamping Authority', publicKeys.tsa, tsaUsage);
  // RFC 6960 §4.2.2.2: a delegated responder, and §4.2.2.2.1 id-pkix-ocsp-nocheck: its own status is not asked
  const ocsp = publicKeys.ocsp
    ? await leaf('Registered Mail DEV OCSP Responder', publicKeys.ocsp, [keyUsage(['digitalSignature']), extendedKeyUsage([OID.kpOcspSigning], false), encodeExtension(OID.ocspNoCheck, false, derNull())], [])
    : undefined;
  const devRoot: DevRoot = { certificate: root, privateKey: rootKeys.privateKey, name: rootName, keyIdentifier: rootKeyId };
  const crl = await issueCrl(
    { thisUpdate: now, nextUpdate: addYears(now, FIRST_CRL_YEARS), crlNumber: 1n, revoked: [] },
    crlIssuer({ algorithm, root: devRoot }),
    crypto,
  );
  return { root: devRoot, crl, seal, tsa, ...(ocsp ? { ocsp } : {}) };
}

/** The directory name for an algorithm's dev PKI: p256, p384, rsa2048, rsa3072. */
export function devPkiDirName(algorithm: KeyAlgorithm): string {
  return algorithmSpec(algorithm).dirName;
}

export function devPkiPaths(dir: string): DevPkiPaths {
  return {
    root: path.join(dir, 'root.pem'),
    crl: path.join(dir, 'root.crl'),
    sealCert: path.join(dir, 'seal.pem'),
    sealKey: path.join(dir, 'seal.key'),
    tsaCert: path.join(dir, 'tsa.pem'),
    tsaKey: path.join(dir, 'tsa.key'),
    ocspCert: path.join(dir, 'ocsp.pem'),
    ocspKey: path.join(dir, 'ocsp.key'),
  };
}

/** Writes `data` to `file` atomically (temporary file, then rename) with `mode`. */
async function writeFileAtomic(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have removed bits; never adds any
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

/** Generates a development PKI for `algorithm` into `dir`, replacing any files there. */
export async function generateDevPki(dir: string, algorithm: KeyAlgorithm, options: DevPkiOptions = {}): Promise<DevPkiPaths> {
  return writeDevPki(dir, await createDevPki(algorithm, options));
}

/** Writes an in-memory development PKI into `dir` as generateDevPki does (the root's key is not written). */
export async function writeDevPki(dir: string, pki: DevPki): Promise<DevPkiPaths> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = devPkiPaths(dir);
  await writeFileAtomic(paths.sealKey, derToPem(pki.sealKeyPkcs8, 'PRIVATE KEY'), 0o600);
  await writeFileAtomic(paths.tsaKey, derToPem(pki.tsaKeyPkcs8, 'PRIVATE KEY'), 0o600);
  await writeFileAtomic(paths.root, derToPem(pki.root.certificate, 'CERTIFICATE'), 0o644);
  await writeFileAtomic(paths.crl, pki.crl, 0o644);
  await writeFileAtomic(paths.sealCert, derToPem(pki.seal.certificate, 'CERTIFICATE'), 0o644);
  await writeFileAtomic(paths.tsaCert, derToPem(pki.tsa.certificate, 'CERTIFICATE'), 0o644);
  await writeFileAtomic(paths.ocspKey, derToPem(pki.ocspKeyPkcs8, 'PRIVATE KEY'), 0o600);
  await writeFileAtomic(paths.ocspCert, derToPem(pki.ocsp.certificate, 'CERTIFICATE'), 0o644);
  return paths;
}

/** The files a usable PKI needs (root.crl is not one: directories from before CRLs keep working). */
async function allExist(paths: DevPkiPaths): Promise<boolean> {
  const needed = [paths.root, paths.sealCert, paths.sealKey, paths.tsaCert, paths.tsaKey];
  const results = await Promise.all(needed.map((p: string) => fs.access(p).then(() => true, () => false)));
  return results.every(Boolean);
}

const LOCK_STALE_MS = 60_000;

/**
 * Returns the paths of the development PKI in `dir`, generating it first when any file is
 * missing. Several processes may call this at once: a lock directory makes one of them
 * generate while the others wait, so the certificates and keys always belong together.
 */
export async function ensureDevPki(dir: string, algorithm: KeyAlgorithm, options: DevPkiOptions = {}): Promise<DevPkiPaths> {
  const paths = devPkiPaths(dir);
  if (await allExist(paths)) return paths;
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const lock = path.join(dir, '.generating.lock');
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await fs.stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > LOCK_STALE_MS) await fs.rm(lock, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    if (!(await allExist(paths))) await generateDevPki(dir, algorithm, options);
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
  return paths;
}
