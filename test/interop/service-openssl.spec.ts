/**
 * Proofs made by the running service, checked by OpenSSL (a verifier no one here wrote):
 * CMS signature with the CAdES ESS attributes, the RFC 3161 token over the signature
 * value, strict DER (re-encoding gives the same bytes), document digests against
 * sha256sum, and the built-in TSA over HTTP against `openssl ts -query/-verify`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { extractTimeStamp } from '../../src/crypto/index.js';
import { openssl, run } from '../helpers/openssl.js';
import { metadata, pdfBytes, startTestService, submit, type TestService } from '../helpers/service.js';

for (const algorithm of ['ECDSA-P256', 'RSA-2048']) {
  describe(`service proofs verified by OpenSSL (${algorithm})`, () => {
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

    it('openssl cms -verify -cades accepts the proof and prints the statement', async () => {
      const r = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', proofFile, '-CAfile', svc.rootPem]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.contain('Verification successful');
      const statement = JSON.parse(r.stdout.toString('utf8'));
      expect(statement.ERDSEventId).to.equal('http://uri.etsi.org/19522/Event/SubmissionAcceptance');
    });

    it('the statement names each document with the digest sha256sum computes', async () => {
      const r = await openssl(['cms', '-verify', '-inform', 'DER', '-in', proofFile, '-CAfile', svc.rootPem]);
      const statement = JSON.parse(r.stdout.toString('utf8'));
      const sums = await run('sha256sum', [path.join(work, 'main'), path.join(work, 'annex')]);
      const [mainSum, annexSum] = sums.stdout.toString().trim().split('\n').map((l) => l.split(/\s+/)[0]);
      expect(statement.Documents.map((d: { DigestValue: string }) => d.DigestValue)).to.deep.equal([mainSum, annexSum]);
    });

    it('openssl ts -verify accepts the signature time-stamp over the signature value', async () => {
      const { token, signatureValue } = extractTimeStamp(proof);
      fs.writeFileSync(path.join(work, 'token.der'), token);
      fs.writeFileSync(path.join(work, 'sigvalue.bin'), signatureValue);
      const r = await openssl(['ts', '-verify', '-token_in', '-in', path.join(work, 'token.der'), '-data', path.join(work, 'sigvalue.bin'), '-CAfile', svc.rootPem]);
      expect(r.code, r.stderr + r.stdout).to.equal(0);
      expect(r.stdout.toString()).to.contain('Verification: OK');
    });

    it('openssl ts -verify refuses the token against other data', async () => {
      fs.writeFileSync(path.join(work, 'other.bin'), Buffer.from('other data'));
      const r = await openssl(['ts', '-verify', '-token_in', '-in', path.join(work, 'token.der'), '-data', path.join(work, 'other.bin'), '-CAfile', svc.rootPem]);
      expect(r.code).to.not.equal(0);
    });

    it('is strict DER: openssl cms -cmsout re-encodes it byte for byte', async () => {
      const r = await openssl(['cms', '-cmsout', '-inform', 'DER', '-in', proofFile, '-outform', 'DER']);
      expect(r.code, r.stderr).to.equal(0);
      expect(Buffer.compare(r.stdout, Buffer.from(proof))).to.equal(0);
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
