/**
 * The running service against OpenSSL (a tool no one here wrote): the documents a proof names
 * carry the digests sha256sum computes, and the built-in TSA over HTTP answers
 * `openssl ts -query` so that `openssl ts -verify -queryfile` accepts it. Every proof type's
 * signature, time-stamp and encoding are checked in service-proofs.spec.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openssl, run } from '../helpers/openssl.js';
import { metadata, pdfBytes, startTestService, submit, type TestService } from '../helpers/service.js';

for (const algorithm of ['ECDSA-P256', 'RSA-2048']) {
  describe(`the service against OpenSSL: document digests and the TSA over HTTP (${algorithm})`, () => {
    let svc: TestService;
    let work: string;
    let proofFile: string;
    let proof: Uint8Array;
    const files = { main: pdfBytes(150 * 1024, 3), annex: new TextEncoder().encode('annex ✓\n') };

    before(async () => {
      svc = await startTestService({ KEY_ALGORITHM: algorithm });
      work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-interop-'));
      const { apiKey } = await svc.newSender('Interop sender');
      await svc.newRecipient('citizen', '85073003328');
      const res = await submit(svc, apiKey, metadata({}, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'annex' }]), [
        { name: 'main', content: files.main },
        { name: 'annex', content: files.annex, type: 'text/plain', fileName: 'annex.txt' },
      ]);
      expect(res.status).to.equal(201);
      const created = await res.json();
      const der = await fetch(svc.url + created.evidence[0].href, { headers: { authorization: `Bearer ${apiKey}` } });
      proof = new Uint8Array(await der.arrayBuffer());
      proofFile = path.join(work, 'proof.p7s');
      fs.writeFileSync(proofFile, proof);
      for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(work, name), bytes);
    });
    after(async () => {
      await svc?.close();
      fs.rmSync(work, { recursive: true, force: true });
    });

    it('the statement names each document with the digest sha256sum computes', async () => {
      const r = await openssl(['cms', '-verify', '-inform', 'DER', '-in', proofFile, '-CAfile', svc.rootPem]);
      const statement = JSON.parse(r.stdout.toString('utf8'));
      const sums = await run('sha256sum', [path.join(work, 'main'), path.join(work, 'annex')]);
      const [mainSum, annexSum] = sums.stdout.toString().trim().split('\n').map((l) => l.split(/\s+/)[0]);
      expect(statement.Documents.map((d: { DigestValue: string }) => d.DigestValue)).to.deep.equal([mainSum, annexSum]);
    });

    it('serves the built-in TSA over HTTP to openssl ts -query / -verify -queryfile', async () => {
      const q = await openssl(['ts', '-query', '-data', path.join(work, 'main'), '-sha256', '-cert']);
      expect(q.code, q.stderr).to.equal(0);
      fs.writeFileSync(path.join(work, 'q.tsq'), q.stdout);
      const res = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: new Uint8Array(q.stdout) });
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('application/timestamp-reply');
      fs.writeFileSync(path.join(work, 'r.tsr'), Buffer.from(await res.arrayBuffer()));
      const v = await openssl(['ts', '-verify', '-queryfile', path.join(work, 'q.tsq'), '-in', path.join(work, 'r.tsr'), '-CAfile', svc.rootPem]);
      expect(v.code, v.stderr + v.stdout).to.equal(0);
      expect(v.stdout.toString()).to.contain('Verification: OK');
      const text = await openssl(['ts', '-reply', '-in', path.join(work, 'r.tsr'), '-text']);
      expect(text.stdout.toString()).to.contain(svc.config.tsa.policyOid);
    });

    it('answers a non-RFC 3161 body on /tsa with 415', async () => {
      const res = await fetch(`${svc.url}/tsa`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
      expect(res.status).to.equal(415);
      expect((await res.json()).code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    });
  });
}
