/**
 * The development PKI with its sealing and TSA keys in a PKCS#11 token (`npm run dev-certs --
 * --pkcs11 …`, and the tests that run with keys in SoftHSM2): both key pairs are generated on
 * the token (sensitive, never extractable), a new root certifies them, and the certificates
 * are stored both on the token (beside their keys, same label and id) and as root.pem,
 * seal.pem and tsa.pem in `dir`. No private key is ever in this process or in a file; the
 * root's key is dropped once it has signed.
 *
 * Labels name the algorithm (`rm-seal-p256`, `rm-tsa-rsa2048`…), so one token can hold the
 * keys of several algorithms.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KeyAlgorithm } from './AlgorithmIdentifier.js';
import { createDevCertificates, devPkiDirName } from './DevPki.js';
import { derToPem } from './pem.js';
import { generateTokenKeyPair, storeTokenCertificate, type TokenLogin } from './Pkcs11.js';

export interface DevTokenPki {
  algorithm: KeyAlgorithm;
  sealKeyLabel: string;
  tsaKeyLabel: string;
  /** root.pem, seal.pem, tsa.pem (certificates only) */
  root: string;
  sealCert: string;
  tsaCert: string;
}

export function devTokenKeyLabels(algorithm: KeyAlgorithm): { seal: string; tsa: string; root: string } {
  const d = devPkiDirName(algorithm);
  return { seal: `rm-seal-${d}`, tsa: `rm-tsa-${d}`, root: `rm-root-${d}` };
}

async function writePublic(file: string, pem: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o644);
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, file);
}

/** Generates the sealing and TSA keys of `algorithm` on the token and writes their certificates to `dir`. */
export async function generateDevPkiOnToken(where: TokenLogin, algorithm: KeyAlgorithm, dir: string): Promise<DevTokenPki> {
  const labels = devTokenKeyLabels(algorithm);
  const sealId = randomBytes(8);
  const tsaId = randomBytes(8);
  const seal = await generateTokenKeyPair(where, algorithm, labels.seal, sealId);
  const tsa = await generateTokenKeyPair(where, algorithm, labels.tsa, tsaId);
  const certs = await createDevCertificates(algorithm, { seal, tsa });
  await storeTokenCertificate(where, certs.seal, labels.seal, sealId);
  await storeTokenCertificate(where, certs.tsa, labels.tsa, tsaId);
  await storeTokenCertificate(where, certs.root, labels.root, randomBytes(8));
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const out = { root: path.join(dir, 'root.pem'), sealCert: path.join(dir, 'seal.pem'), tsaCert: path.join(dir, 'tsa.pem') };
  await writePublic(out.root, derToPem(certs.root, 'CERTIFICATE'));
  await writePublic(path.join(dir, 'root.crl'), certs.crl);
  await writePublic(out.sealCert, derToPem(certs.seal, 'CERTIFICATE'));
  await writePublic(out.tsaCert, derToPem(certs.tsa, 'CERTIFICATE'));
  return { algorithm, sealKeyLabel: labels.seal, tsaKeyLabel: labels.tsa, ...out };
}
