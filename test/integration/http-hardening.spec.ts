/**
 * The HTTP server's own defences: headers on every answer, timeouts and a connection cap
 * set by the service, and TLS termination with mutual TLS for senders.
 */
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { openssl } from '../helpers/openssl.js';
import { rawRequest, requestHead } from '../helpers/raw-http.js';
import { blobFiles, metadata, pdfBytes, startTestService, submit, type TestService } from '../helpers/service.js';

const ADMIN = 'admin-token-for-tests-0123456789';

describe(`missing HTTP hardening (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  describe('headers', () => {
    let svc: TestService;
    let key: string;
    before(async () => {
      svc = await startTestService();
      key = (await svc.newSender()).apiKey;
      await svc.newRecipient('citizen', '85073003328');
    });
    after(async () => svc?.close());

    it('every answer says nosniff, and every answer that can carry personal data says no-store', async () => {
      const created = await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(200) }]);
      const body = await created.json();
      const answers = [
        created,
        await fetch(`${svc.url}/v1/messages/${body.id}`, { headers: { authorization: `Bearer ${key}` } }),
        await fetch(`${svc.url}${body.evidence[0].href}`, { headers: { authorization: `Bearer ${key}` } }),
        await fetch(`${svc.url}/v1/messages`, { headers: { authorization: `Bearer ${key}` } }),
        await fetch(`${svc.url}/v1/messages/nope`, { headers: { authorization: `Bearer ${key}` } }),
        await fetch(`${svc.url}/v1/messages`),
        await fetch(`${svc.url}/healthz`),
      ];
      for (const res of answers) {
        expect(res.headers.get('x-content-type-options'), res.url).to.equal('nosniff');
        expect(res.headers.get('cache-control'), res.url).to.equal('no-store');
      }
      const doc = await fetch(`${svc.url}/openapi.json`);
      expect(doc.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(doc.headers.get('cache-control')).to.match(/^public/);
    });
  });

  describe('timeouts and the connection cap', () => {
    let svc: TestService;
    let key: string;
    before(async () => {
      svc = await startTestService({ HTTP_HEADERS_TIMEOUT_MS: '1000', HTTP_REQUEST_TIMEOUT_MS: '4000', HTTP_IDLE_TIMEOUT_MS: '1500', HTTP_MAX_CONNECTIONS: '3' });
      key = (await svc.newSender()).apiKey;
    });
    after(async () => svc?.close());

    it('closes a connection whose headers never end (HTTP_HEADERS_TIMEOUT_MS)', async () => {
      const a = await rawRequest(svc.url, ['GET /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: '], { after: 'wait', timeoutMs: 30_000 });
      expect(a.raw === '' || a.status === 408, a.raw.slice(0, 200)).to.equal(true);
    });

    it('closes an upload that stops sending (HTTP_IDLE_TIMEOUT_MS) and leaves no temp file', async () => {
      const boundary = 'idle';
      const head = requestHead('/v1/messages', { authorization: `Bearer ${key}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 1_000_000 });
      const part = `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(metadata())}\r\n--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF`;
      const started = Date.now();
      await rawRequest(svc.url, [head, part], { after: 'wait', timeoutMs: 30_000 });
      expect(Date.now() - started, 'closed by the server, not by the test giving up').to.be.below(29_000);
      const deadline = Date.now() + 10_000;
      while (blobFiles(svc.dataDir).temp.length > 0) {
        expect(Date.now()).to.be.below(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
    });

    it('refuses connections beyond HTTP_MAX_CONNECTIONS', async () => {
      const { port } = new URL(svc.url);
      const open: net.Socket[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const s = net.connect(Number(port), '127.0.0.1');
          await new Promise((r) => s.once('connect', r));
          open.push(s);
        }
        const extra = net.connect(Number(port), '127.0.0.1');
        const closed = await new Promise<boolean>((resolve) => {
          extra.once('close', () => resolve(true));
          extra.once('error', () => resolve(true));
          extra.once('connect', () => extra.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
          extra.once('data', () => resolve(false));
          setTimeout(() => resolve(false), 10_000);
        });
        expect(closed, 'the fourth connection is dropped').to.equal(true);
      } finally {
        for (const s of open) s.destroy();
      }
    });
  });

  describe('TLS and mutual TLS for senders', function () {
    this.timeout(120_000);
    let dir: string;
    let svc: TestService;
    const files = (name: string) => path.join(dir, name);

    async function makeCert(name: string, subject: string, issuer?: string, extra: string[] = []): Promise<void> {
      const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', files(`${name}.key`)];
      if (!issuer) {
        const r = await openssl(['req', '-x509', ...key, '-out', files(`${name}.pem`), '-subj', subject, '-days', '2', ...extra]);
        expect(r.code, r.stderr).to.equal(0);
      } else {
        let r = await openssl(['req', ...key, '-out', files(`${name}.csr`), '-subj', subject]);
        expect(r.code, r.stderr).to.equal(0);
        fs.writeFileSync(files(`${name}.ext`), 'extendedKeyUsage=clientAuth\n');
        r = await openssl(['x509', '-req', '-in', files(`${name}.csr`), '-CA', files(`${issuer}.pem`), '-CAkey', files(`${issuer}.key`), '-CAcreateserial', '-out', files(`${name}.pem`), '-days', '2', '-extfile', files(`${name}.ext`)]);
        expect(r.code, r.stderr).to.equal(0);
      }
      fs.chmodSync(files(`${name}.key`), 0o600);
    }

    /** A request over TLS trusting the test server certificate, with an optional client certificate. */
    function request(urlPath: string, options: { client?: string; apiKey?: string; method?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
      return new Promise((resolve, reject) => {
        const req = https.request(
          `${svc.url}${urlPath}`,
          {
            method: options.method ?? 'GET',
            ca: fs.readFileSync(files('server.pem')),
            ...(options.client ? { cert: fs.readFileSync(files(`${options.client}.pem`)), key: fs.readFileSync(files(`${options.client}.key`)) } : {}),
            headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
            agent: false,
          },
          (res) => {
            let body = '';
            res.on('data', (d) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    }

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-tls-'));
      await makeCert('server', '/CN=127.0.0.1', undefined, ['-addext', 'subjectAltName=IP:127.0.0.1']);
      await makeCert('clientca', '/CN=Test service bus client CA');
      await makeCert('app', '/CN=Sender application', 'clientca');
      await makeCert('other-app', '/CN=Unregistered application', 'clientca');
      await makeCert('rogue', '/CN=Sender application (self-signed)');
      svc = await startTestService({ ADMIN_TOKEN: ADMIN, TLS_CERT_FILE: files('server.pem'), TLS_KEY_FILE: files('server.key'), TLS_CLIENT_CA_FILE: files('clientca.pem'), AUTH_FAILURE_LIMIT: '1000' });
    });
    after(async () => {
      await svc?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('serves HTTPS (with HSTS) and refuses plain HTTP on the same port', async () => {
      const res = await request('/healthz');
      expect(res.status).to.equal(200);
      expect(res.headers['strict-transport-security']).to.be.a('string');
      const plain = await fetch(svc.url.replace('https:', 'http:') + '/healthz').then(
        (r) => r.status,
        () => 'refused',
      );
      expect(plain).to.not.equal(200);
    });

    it('authenticates a sender by a registered client certificate, or by its API key; refuses unregistered, untrusted and revoked certificates', async () => {
      const mk = await request('/v1/admin/senders', { method: 'GET' });
      expect(mk.status, 'admin needs its token').to.equal(401);
      const sender = await adminJson('POST', '/v1/admin/senders', { name: 'Service bus sender' });
      const reg = await adminJson('POST', `/v1/admin/senders/${sender.id}/credentials`, { kind: 'tls_client_certificate', name: 'bus', certificate: fs.readFileSync(files('app.pem'), 'utf8') });
      expect(reg.credential).to.include({ kind: 'tls_client_certificate', name: 'bus', state: 'active' });
      expect(reg.credential.hint).to.contain('Sender application');
      await adminJson('POST', `/v1/admin/senders/${sender.id}/credentials`, { kind: 'tls_client_certificate', name: 'rogue', certificate: fs.readFileSync(files('rogue.pem'), 'utf8') });

      expect((await request('/v1/messages', { client: 'app' })).status, 'registered certificate').to.equal(200);
      expect((await request('/v1/messages', { apiKey: sender.apiKey })).status, 'API key over TLS').to.equal(200);
      expect((await request('/v1/messages')).status, 'no credential').to.equal(401);
      expect((await request('/v1/messages', { client: 'other-app' })).status, 'trusted but unregistered').to.equal(401);
      expect((await request('/v1/messages', { client: 'rogue' })).status, 'registered but not issued by the client CA').to.equal(401);

      const del = await adminRaw('DELETE', `/v1/admin/senders/${sender.id}/credentials/${reg.credential.id}`);
      expect(del).to.equal(204);
      expect((await request('/v1/messages', { client: 'app' })).status, 'revoked certificate').to.equal(401);
    });

    it('refuses to start with a TLS key file that others can read', async () => {
      fs.copyFileSync(files('server.key'), files('loose.key'));
      fs.chmodSync(files('loose.key'), 0o644);
      let code: unknown;
      await startTestService({ TLS_CERT_FILE: files('server.pem'), TLS_KEY_FILE: files('loose.key') }).then(
        (s) => s.close(),
        (err) => (code = err.code),
      );
      expect(code).to.equal('KEY_FILE_PERMISSIONS');
    });

    async function adminRaw(method: string, p: string, body?: unknown): Promise<number> {
      return (await adminCall(method, p, body)).status;
    }
    async function adminJson(method: string, p: string, body?: unknown): Promise<any> {
      const r = await adminCall(method, p, body);
      expect(r.status, r.body).to.be.within(200, 299);
      return JSON.parse(r.body);
    }
    function adminCall(method: string, p: string, body?: unknown): Promise<{ status: number; body: string }> {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = https.request(
          `${svc.url}${p}`,
          { method, ca: fs.readFileSync(files('server.pem')), agent: false, headers: { authorization: `Bearer ${ADMIN}`, ...(data ? { 'content-type': 'application/json' } : {}) } },
          (res) => {
            let text = '';
            res.on('data', (d) => (text += d));
            res.on('end', () => resolve({ status: res.statusCode!, body: text }));
          },
        );
        req.on('error', reject);
        req.end(data);
      });
    }
  });
});
