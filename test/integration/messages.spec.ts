import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { expect } from 'chai';
import { pemToDer, verifyCadesT } from '../../src/crypto/index.js';
import { onPostgres } from '../helpers/database.js';
import { blobFiles, metadata, pdfBytes, startTestService, submit, VALID_INSZ_2000, VALID_KBO, waitForMessage, type TestService } from '../helpers/service.js';

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

describe(`messages API (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  let svc: TestService;
  let alice: { id: string; apiKey: string };
  let bob: { id: string; apiKey: string };

  before(async () => {
    svc = await startTestService({ MAX_DOCUMENT_BYTES: String(256 * 1024) });
    alice = await svc.newSender('Alice institution');
    bob = await svc.newSender('Bob institution');
    for (const [type, id] of [['citizen', '85073003328'], ['citizen', VALID_INSZ_2000], ['enterprise', VALID_KBO], ['enterprise', '0428759497']] as const) {
      await svc.newRecipient(type, id);
    }
  });
  after(async () => svc?.close());

  async function count(table: string): Promise<number> {
    const q = svc.rt.store.db(table).count({ n: '*' });
    // periodic maintenance jobs come and go on their own: count only message work
    if (table === 'jobs') q.whereNotNull('message_id');
    const row = await q.first();
    return Number(row?.n);
  }

  describe('accepting a message', () => {
    const main = pdfBytes(100 * 1024, 7);
    const annex = new TextEncoder().encode('Bijlage / Annexe\n');
    let created: Record<string, any>;

    before(async () => {
      const res = await submit(
        svc,
        alice.apiKey,
        metadata({}, [
          { httpPartName: 'main', isMainContent: true },
          { httpPartName: 'annex1', isMainContent: false },
        ]),
        [
          { name: 'main', content: main, fileName: 'beslissing.pdf' },
          { name: 'annex1', content: annex, fileName: 'bijlage é.txt', type: 'text/plain' },
        ],
      );
      expect(res.status, await res.clone().text()).to.equal(201);
      created = await res.json();
      expect(res.headers.get('location')).to.equal(`/v1/messages/${created.id}`);
    });

    it('answers 201 with the message, its documents and the proof of dispatch', () => {
      expect(created.status).to.be.oneOf(['ACCEPTED', 'DEPOSITED']);
      expect(created.recipient).to.deep.equal({ type: 'citizen', id: '85073003328' });
      expect(created.documents).to.have.length(2);
      expect(created.documents[0]).to.include({ httpPartName: 'main', fileName: 'beslissing.pdf', mediaType: 'application/pdf', size: main.length, sha256: sha256(main), isMainContent: true });
      expect(created.documents[1]).to.include({ httpPartName: 'annex1', fileName: 'bijlage é.txt', mediaType: 'text/plain', sha256: sha256(annex), isMainContent: false });
      expect(created.evidence[0].type).to.equal('SubmissionAcceptance');
    });

    it('serves status and events to its sender', async () => {
      const body = await waitForMessage(svc, alice.apiKey, created.id, (m) => m.status === 'DEPOSITED');
      const lifecycle = body.events.map((e: { type: string }) => e.type).filter((t: string) => !t.startsWith('Notification'));
      expect(lifecycle).to.deep.equal(['MessageReceived', 'SubmissionAcceptance', 'ContentConsignment']);
    });

    it('serves the proof as DER and as a decoded statement that names each document digest', async () => {
      const list = await (await fetch(`${svc.url}/v1/messages/${created.id}/evidence`, { headers: { authorization: `Bearer ${alice.apiKey}` } })).json();
      expect(list.items[0].type).to.equal('SubmissionAcceptance');
      const href = list.items[0].href;

      const der = await fetch(svc.url + href, { headers: { authorization: `Bearer ${alice.apiKey}` } });
      expect(der.status).to.equal(200);
      expect(der.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
      const proof = new Uint8Array(await der.arrayBuffer());
      expect(sha256(proof)).to.equal(list.items[0].sha256);

      const json = await (await fetch(svc.url + href, { headers: { authorization: `Bearer ${alice.apiKey}`, accept: 'application/json' } })).json();
      const st = json.statement;
      expect(st.ERDSEventId).to.equal('http://uri.etsi.org/19522/Event/SubmissionAcceptance');
      expect(st.MessageIdentifier).to.equal(created.id);
      expect(st.SenderDetails).to.deep.equal({ Identifier: alice.id, Name: 'Alice institution', Reference: 'REF-2026-0001' });
      expect(st.RecipientDetails).to.deep.equal({ Type: 'citizen', Scheme: 'INSZ', Identifier: '85073003328' });
      expect(st.Documents.map((d: { DigestValue: string }) => d.DigestValue)).to.deep.equal([sha256(main), sha256(annex)]);
      expect(st.PreviousEvidenceDigest).to.equal(null);

      const report = await verifyCadesT(proof, { trustAnchors: pemToDer(fs.readFileSync(svc.rootPem, 'utf8')) });
      expect(report.indication, JSON.stringify(report.checks)).to.equal('TOTAL_PASSED');
      expect(JSON.parse(new TextDecoder().decode(report.content))).to.deep.equal(st);
    });

    it('stores the document bytes durably under the blob store', async () => {
      const { objects, temp } = blobFiles(svc.dataDir);
      const hashes = objects.map((f) => sha256(fs.readFileSync(f)));
      expect(hashes).to.include(sha256(main));
      expect(hashes).to.include(sha256(annex));
      expect(temp).to.deep.equal([]);
    });

    it('hides the message from another sender (404, not 403)', async () => {
      for (const path of [`/v1/messages/${created.id}`, `/v1/messages/${created.id}/evidence`, `/v1/messages/${created.id}/evidence/${created.evidence[0].id}`]) {
        const res = await fetch(svc.url + path, { headers: { authorization: `Bearer ${bob.apiKey}` } });
        expect(res.status, path).to.equal(404);
        expect((await res.json()).code).to.equal('NOT_FOUND');
      }
    });

    it('accepts enterprises (KBO) and citizens born after 2000', async () => {
      for (const recipient of [{ type: 'enterprise', id: VALID_KBO }, { type: 'citizen', id: VALID_INSZ_2000 }, { type: 'enterprise', id: '0428.759.497' }]) {
        const res = await submit(svc, alice.apiKey, metadata({ recipient }), [{ name: 'main', content: pdfBytes(1000) }]);
        expect(res.status, JSON.stringify(recipient)).to.equal(201);
      }
    });
  });

  describe('authentication', () => {
    it('refuses a missing or unknown key with 401 problem+json', async () => {
      for (const key of [undefined, 'rmk_not-a-key', 'garbage']) {
        const res = await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(10) }]);
        expect(res.status).to.equal(401);
        expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(res.headers.get('www-authenticate')).to.match(/^Bearer/);
        expect((await res.json()).code).to.equal('UNAUTHENTICATED');
      }
    });
  });

  describe('refusing bad input, leaving nothing behind', () => {
    const main = [{ name: 'main', content: pdfBytes(2000) }];
    // let the accepted messages above finish their work, so that only a refused request could change the counts
    before(async () => {
      for (let i = 0; i < 400; i++) {
        const open = await svc.rt.store.db('jobs').whereNotNull('message_id').whereIn('status', ['pending', 'running']).count({ n: '*' }).first();
        if (Number(open?.n) === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('jobs did not settle');
    });
    const cases: Array<{ title: string; status: number; code: string; send: () => Promise<Response> }> = [
      { title: 'not multipart', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', send: () => fetch(`${svc.url}/v1/messages`, { method: 'POST', headers: { authorization: `Bearer ${alice.apiKey}`, 'content-type': 'application/json' }, body: '{}' }) },
      { title: 'metadata missing', status: 400, code: 'METADATA_MISSING', send: () => submit(svc, alice.apiKey, undefined, main) },
      { title: 'metadata not JSON', status: 400, code: 'METADATA_INVALID', send: () => submit(svc, alice.apiKey, '{"recipient":', main) },
      { title: 'INSZ with a wrong check digit', status: 422, code: 'RECIPIENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ recipient: { type: 'citizen', id: '85073003329' } }), main) },
      { title: 'INSZ that is 10 digits', status: 422, code: 'RECIPIENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ recipient: { type: 'citizen', id: '8507300332' } }), main) },
      { title: 'KBO with a wrong check digit', status: 422, code: 'RECIPIENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ recipient: { type: 'enterprise', id: '0403019262' } }), main) },
      { title: 'unknown recipient type', status: 422, code: 'RECIPIENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ recipient: { type: 'alien', id: '85073003328' } }), main) },
      { title: 'subject missing', status: 422, code: 'SUBJECT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ subject: {} }), main) },
      { title: 'INSZ 00000000097 (check digits right, serial 000)', status: 422, code: 'RECIPIENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ recipient: { type: 'citizen', id: '00000000097' } }), main) },
      { title: 'subject with a right-to-left override', status: 422, code: 'SUBJECT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ subject: { nl: 'Uw beslissing \u202Efdp.exe' } }), main) },
      { title: 'subject with a lone surrogate', status: 422, code: 'SUBJECT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ subject: { fr: 'Votre d\uD800cision' } }), main) },
      { title: 'senderReference with a control character', status: 400, code: 'METADATA_INVALID', send: () => submit(svc, alice.apiKey, metadata({ senderReference: 'REF\u0000-1' }), main) },
      { title: 'file name with a right-to-left override', status: 422, code: 'DOCUMENT_NAME_INVALID', send: () => submit(svc, alice.apiKey, metadata(), [{ name: 'main', content: pdfBytes(100), fileName: 'invoice\u202Efdp.exe' }]) },
      { title: 'subject in an unsupported language', status: 422, code: 'SUBJECT_INVALID', send: () => submit(svc, alice.apiKey, metadata({ subject: { es: 'Hola' } }), main) },
      { title: 'no document declared', status: 422, code: 'DOCUMENT_MISSING', send: () => submit(svc, alice.apiKey, metadata({ documents: [] }), main) },
      { title: 'declared document not sent', status: 422, code: 'DOCUMENT_MISSING', send: () => submit(svc, alice.apiKey, metadata({}, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'annex' }]), main) },
      { title: 'document part not declared', status: 422, code: 'DOCUMENT_PART_UNDECLARED', send: () => submit(svc, alice.apiKey, metadata(), [...main, { name: 'extra', content: 'x', type: 'text/plain' }]) },
      { title: 'two main documents', status: 422, code: 'MAIN_DOCUMENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({}, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'b', isMainContent: true }]), [...main, { name: 'b', content: 'b', type: 'text/plain' }]) },
      { title: 'no main document', status: 422, code: 'MAIN_DOCUMENT_INVALID', send: () => submit(svc, alice.apiKey, metadata({}, [{ httpPartName: 'main' }]), main) },
      { title: 'empty file', status: 422, code: 'DOCUMENT_EMPTY', send: () => submit(svc, alice.apiKey, metadata(), [{ name: 'main', content: new Uint8Array(0) }]) },
      { title: 'file over the size limit', status: 413, code: 'DOCUMENT_TOO_LARGE', send: () => submit(svc, alice.apiKey, metadata(), [{ name: 'main', content: pdfBytes(256 * 1024 + 1) }]) },
      { title: 'media type not allowed', status: 415, code: 'DOCUMENT_MEDIA_TYPE_NOT_ALLOWED', send: () => submit(svc, alice.apiKey, metadata(), [{ name: 'main', content: 'MZ', type: 'application/x-msdownload', fileName: 'a.exe' }]) },
      {
        title: 'more documents than the e-Box takes (7 > 6)',
        status: 422,
        code: 'TOO_MANY_DOCUMENTS',
        send: () => {
          const names = ['main', 'a', 'b', 'c', 'd', 'e', 'f'];
          return submit(svc, alice.apiKey, metadata({}, names.map((n, i) => ({ httpPartName: n, isMainContent: i === 0 }))), names.map((n) => ({ name: n, content: n + ' content', type: 'text/plain' })));
        },
      },
    ];

    for (const c of cases) {
      it(`${c.title} → ${c.status} ${c.code}`, async () => {
        const before = { messages: await count('messages'), documents: await count('documents'), evidence: await count('evidence'), jobs: await count('jobs'), objects: blobFiles(svc.dataDir).objects.length };
        const res = await c.send();
        expect(res.status).to.equal(c.status);
        expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
        const problem = await res.json();
        expect(problem.code).to.equal(c.code);
        expect(problem.status).to.equal(c.status);
        expect(problem.detail).to.be.a('string');
        expect({ messages: await count('messages'), documents: await count('documents'), evidence: await count('evidence'), jobs: await count('jobs'), objects: blobFiles(svc.dataDir).objects.length }).to.deep.equal(before);
        expect(blobFiles(svc.dataDir).temp).to.deep.equal([]);
      });
    }
  });

  it('keeps a file name in any script', async () => {
    const res = await submit(svc, alice.apiKey, metadata(), [{ name: 'main', content: pdfBytes(100, 5), fileName: 'قرار résumé 📨.pdf' }]);
    expect(res.status).to.be.oneOf([201, 202]);
    expect((await res.json()).documents[0].fileName).to.equal('قرار résumé 📨.pdf');
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    expect(res.status).to.equal(200);
    expect(await res.json()).to.deep.equal({ status: 'ok' });
  });

  it('answers an unknown route with a 404 problem', async () => {
    const res = await fetch(`${svc.url}/v1/nothing`);
    expect(res.status).to.equal(404);
    expect((await res.json()).code).to.equal('NOT_FOUND');
  });
});

describe(`POST /v1/messages with Prefer: respond-async (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(30_000);
  let svc: TestService;
  let sender: { id: string; apiKey: string };

  before(async () => {
    // no worker, and a minute's wait for the proof: an answer that waited would not come in the test's time
    svc = await startTestService({ SUBMIT_WAIT_MS: '60000' }, { worker: false });
    sender = await svc.newSender();
    await svc.newRecipient('citizen', VALID_INSZ_2000);
  });
  after(async () => svc?.close());

  it('answers 202 as soon as the message is durable, without waiting for its proof, and says the preference was applied', async () => {
    const res = await submit(svc, sender.apiKey, metadata({ recipient: { type: 'citizen', id: VALID_INSZ_2000 } }), [{ name: 'main', content: pdfBytes(4_000, 5), fileName: 'a.pdf' }], { prefer: 'respond-async' });
    expect(res.status).to.equal(202);
    expect(res.headers.get('preference-applied')).to.equal('respond-async');
    const body = await res.json();
    expect(res.headers.get('location')).to.equal(`/v1/messages/${body.id}`);
    expect(body.status).to.equal('RECEIVED');
    expect(body.evidence).to.deep.equal([]);
    expect((await svc.rt.store.messages.findById(body.id))?.status).to.equal('RECEIVED');
  });
});
