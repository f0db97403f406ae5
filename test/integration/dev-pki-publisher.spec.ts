/**
 * The development PKI publisher as `npm start` runs it (dev/pki-publisher/start.ts, through
 * src/app/devProviders.ts): on an on-disk development PKI it serves root.crl where the
 * certificates' distribution point names it and answers OCSP requests with the PKI's delegated
 * responder, adds its address to the fetchers' allow-list, and the service's own fetchers get
 * usable revocation data from it; a PKI whose URL it cannot serve (the service's own port, as
 * development PKIs made before the publisher name) is said in the log, not served.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { revocationWithoutPublisher, startDevPkiPublisher, wantsDevPkiPublisher } from '../../src/app/devProviders.js';
import { generateDevPki, parseCrl, pemToDer, revocationStatusFrom } from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { createLogger } from '../../src/logger.js';
import { OutboundPolicy } from '../../src/net/OutboundPolicy.js';
import { CrlFetcher, OcspFetcher } from '../../src/registered-mail/revocation.js';
import { freePort } from '../helpers/process.js';

describe('development PKI publisher (npm start)', function () {
  this.timeout(60_000);
  let work: string;
  const lines: string[] = [];
  const log = createLogger('info', { write: (l: string) => void lines.push(l) });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'dev-pki-publisher-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('serves the on-disk CRL and OCSP answers where the certificates point; the fetchers reach it through the allow-list it adds', async () => {
    const port = await freePort();
    const certs = path.join(work, 'certs');
    const dir = path.join(certs, 'p256');
    await generateDevPki(dir, 'ECDSA-P256', { crlUrl: `http://127.0.0.1:${port}/pki/root.crl`, ocspUrl: `http://127.0.0.1:${port}/pki/ocsp` });
    const config = loadConfig({ DEV_CERTS_DIR: certs, DATA_DIR: path.join(work, 'data'), PORT: '0' });
    expect(config.revocation.mode).to.equal('crl');
    expect(wantsDevPkiPublisher(config)).to.equal(true);
    expect(wantsDevPkiPublisher(loadConfig({ APP_ENV: 'test' }))).to.equal(false);
    const started = await startDevPkiPublisher(config, log);
    expect(started).to.not.equal(undefined);
    try {
      expect(started!.url).to.equal(`http://127.0.0.1:${port}/pki/root.crl`);
      expect(started!.config.revocation.allowPrivateTargets).to.deep.equal(['127.0.0.1/32']);
      const read = (f: string) => parseCertificate(pemToDer(fs.readFileSync(path.join(dir, f), 'utf8'), 'CERTIFICATE')[0]!);
      const [root, seal, tsa] = [read('root.pem'), read('seal.pem'), read('tsa.pem')];
      const options = { policy: new OutboundPolicy({ allow: started!.config.revocation.allowPrivateTargets }), timeoutMs: 2000, maxBytes: 1024 * 1024 };
      const crl = await new CrlFetcher(options).get(started!.url);
      expect(Buffer.from(crl.der).equals(fs.readFileSync(path.join(dir, 'root.crl')))).to.equal(true);
      expect(parseCrl(crl.der).entries).to.deep.equal([]);
      const ocsp = new OcspFetcher(options);
      for (const cert of [seal, tsa]) {
        const answer = await ocsp.get(`http://127.0.0.1:${port}/pki/ocsp`, cert, root);
        const status = await revocationStatusFrom(cert, [root], { crls: [], ocsp: [answer] }, new Date());
        expect(status.status, status.detail).to.equal('good');
        expect(status.detail).to.match(/delegated responder .*OCSP Responder/);
      }
      // without the allow-list the outbound policy refuses loopback
      const refused = await new CrlFetcher({ ...options, policy: new OutboundPolicy() }).get(started!.url).catch((e: unknown) => e);
      expect((refused as Error).message).to.match(/TARGET_FORBIDDEN/);
    } finally {
      await started!.close();
    }
  });

  it('a development PKI that names the service\'s own port is not served: the log says why', async () => {
    const certs = path.join(work, 'legacy');
    await generateDevPki(path.join(certs, 'p256'), 'ECDSA-P256', { crlUrl: 'http://localhost:8080/pki/root.crl', ocspUrl: null });
    const config = loadConfig({ DEV_CERTS_DIR: certs, DATA_DIR: path.join(work, 'data') });
    lines.length = 0;
    expect(await startDevPkiPublisher(config, log)).to.equal(undefined);
    expect(lines.join('\n')).to.match(/development PKI publisher not started: .*name http:\/\/localhost:8080\/pki\/root\.crl .*remove the folder/);
  });

  it('a port another process holds is not served: the log says so, the service goes on', async () => {
    const port = await freePort();
    const certs = path.join(work, 'taken');
    await generateDevPki(path.join(certs, 'p256'), 'ECDSA-P256', { crlUrl: `http://127.0.0.1:${port}/pki/root.crl`, ocspUrl: null });
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    try {
      lines.length = 0;
      expect(await startDevPkiPublisher(loadConfig({ DEV_CERTS_DIR: certs, DATA_DIR: path.join(work, 'data') }), log)).to.equal(undefined);
      expect(lines.join('\n')).to.match(new RegExp(`development PKI publisher not started: 127\\.0\\.0\\.1:${port}, .* is taken by another process`));
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('a development process without the publisher seals CAdES-B-T unless SEAL_REVOCATION was set by hand', () => {
    const dev = loadConfig({ DEV_CERTS_DIR: path.join(work, 'certs'), DATA_DIR: path.join(work, 'data') });
    expect(dev.revocation).to.include({ mode: 'crl', modeSet: false });
    expect(revocationWithoutPublisher(dev)?.revocation.mode).to.equal('off');
    // set by hand: proofs wait for revocation data, as in production
    expect(revocationWithoutPublisher(loadConfig({ DEV_CERTS_DIR: path.join(work, 'certs'), SEAL_REVOCATION: 'crl' }))).to.equal(undefined);
    expect(revocationWithoutPublisher(loadConfig({ DEV_CERTS_DIR: path.join(work, 'certs'), SEAL_REVOCATION: 'ocsp' }))).to.equal(undefined);
    // nothing to change where the publisher is not wanted
    expect(revocationWithoutPublisher(loadConfig({ APP_ENV: 'test' }))).to.equal(undefined);
    expect(revocationWithoutPublisher(loadConfig({ APP_ENV: 'production', SEAL_REVOCATION: 'crl', SEAL_KEY_FILE: '', DEV_CERTS_DIR: path.join(work, 'certs') }))).to.equal(undefined);
  });
});
