/**
 * Starts the development PKI's publisher (DevPkiPublisher.ts) for `npm start`: in development,
 * with SEAL_REVOCATION=crl or ocsp and the sealing key of the development PKI, on the loopback host and
 * port its certificates name as their CRL distribution point, and lets the service's CRL
 * fetcher reach it (SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS gains that address, as a developer
 * would configure it by hand).
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import type { Config } from '../../src/config.js';
import { crlUrlsOf, devPkiPaths, ensureDevPki, loadSigningIdentity, ocspUrlsOf, pemToDer, type OcspResponderIdentity } from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { devPkiDir, devPkiOptions } from '../../src/app/runtime.js';
import { DevPkiPublisher, CRL_PATH, OCSP_PATH } from './DevPkiPublisher.js';

export interface StartedDevPkiPublisher {
  config: Config;
  url: string;
  close(): Promise<void>;
}

/** Why the publisher cannot run for this configuration; undefined when it can. */
export type NotStarted = { reason: string };

export async function startDevPkiPublisher(config: Config): Promise<StartedDevPkiPublisher | NotStarted> {
  const dir = devPkiDir(config);
  const paths = await ensureDevPki(dir, config.keyAlgorithm, devPkiOptions(config));
  const seal = parseCertificate(pemToDer(await fs.readFile(paths.sealCert, 'utf8'), 'CERTIFICATE')[0]!);
  const url = crlUrlsOf(seal)[0];
  if (!url) return { reason: `the development certificates in ${dir} name no CRL distribution point (made before CRLs): remove the folder to have it made again` };
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || (net.isIP(host) !== 0 && (host.startsWith('127.') || host === '::1'));
  const port = Number(u.port || 80);
  if (!loopback || u.pathname !== CRL_PATH || port === config.port) {
    return { reason: `the development certificates in ${dir} name ${url} as their CRL distribution point, which the publisher cannot serve (made by an earlier version): remove the folder to have it made again` };
  }
  const listenHost = host === 'localhost' ? '127.0.0.1' : host;
  const files = devPkiPaths(dir);
  const hasResponder = await fs.access(files.ocspKey).then(() => true, () => false);
  if (config.revocation.mode === 'ocsp' && (!hasResponder || ocspUrlsOf(seal)[0] !== `${u.origin}${OCSP_PATH}`)) {
    return { reason: `the development certificates in ${dir} name no OCSP responder at ${u.origin}${OCSP_PATH} (made without SEAL_REVOCATION=ocsp, or before OCSP): remove the folder to have it made again` };
  }
  let responder: OcspResponderIdentity | undefined;
  const ocsp = hasResponder
    ? {
        issuer: ((root) => () => root)(pemToDer(await fs.readFile(paths.root, 'utf8'), 'CERTIFICATE')[0]!),
        identity: async () => {
          if (responder) return responder;
          const id = await loadSigningIdentity({ keyFile: files.ocspKey, certFile: files.ocspCert });
          responder = { certificate: parseCertificate(id.certificate), privateKey: id.privateKey, algorithm: id.algorithm, certs: [id.certificate] };
          return responder;
        },
      }
    : undefined;
  const publisher = new DevPkiPublisher(async () => new Uint8Array(await fs.readFile(files.crl)), ocsp);
  try {
    await publisher.start(port, listenHost);
  } catch (err) {
    // another process holds the port (another development service, often): not this one's to serve
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') return { reason: `${listenHost}:${port}, where the development certificates in ${dir} name their CRL, is taken by another process` };
    throw err;
  }
  const cidr = net.isIPv6(listenHost) ? `${listenHost}/128` : `${listenHost}/32`;
  return {
    config: { ...config, revocation: { ...config.revocation, allowPrivateTargets: [...config.revocation.allowPrivateTargets, cidr] } },
    url: publisher.crlUrl,
    close: () => publisher.stop(),
  };
}
