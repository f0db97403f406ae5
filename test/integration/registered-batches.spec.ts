/**
 * POST /v1/messages/batches and GET /v1/messages/batches/{id}, against the real service on
 * the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL): both forms (multipart,
 * and ZIP archives made by Info-ZIP's `zip`), good and bad rows, each bad row refused with
 * the code a single POST /v1/messages gives for it and leaving nothing behind, proofs that
 * `openssl cms -verify` accepts, hostile archives (traversal, bomb, duplicate entry, an entry
 * no row names, a symbolic link), uploads dropped midway, the limits, another sender's batch,
 * Idempotency-Key replays (one after the other, and two at once), pages.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { openssl, run } from '../helpers/openssl.js';
import { rawRequest, requestHead } from '../helpers/raw-http.js';
import { blobFiles, metadata, pdfBytes, startTestService, submit, VALID_INSZ, VALID_KBO, waitForMessage, type TestService } from '../helpers/service.js';
import { zip } from '../helpers/zip.js';

const BAD_INSZ = '12345678901';

interface Doc {
  name: string;
  bytes: Uint8Array | string;
  type?: string;
}

/** A manifest row: the metadata of POST /v1/messages, its documents by file name. */
function line(n: number, files: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...metadata({ senderReference: `BATCH-${n}`, subject: { nl: `Brief ${n}` } }), documents: files.map((file, i) => ({ file, isMainContent: i === 0 })), ...overrides };
}

function multipartBatch(manifest: string, docs: Doc[], manifestFirst = true): FormData {
  const form = new FormData();
  if (manifestFirst) form.append('manifest', manifest);
  for (const d of docs) form.append(d.name, new Blob([typeof d.bytes === 'string' ? d.bytes : new Uint8Array(d.bytes)], { type: d.type ?? 'application/pdf' }), d.name);
  if (!manifestFirst) form.append('manifest', manifest);
  return form;
}

describe(`registered message batches (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let A: { id: string; apiKey: string };
  let B: { id: string; apiKey: string };
  let work: string;

  before(async () => {
    svc = await startTestService({ SUBMIT_WAIT_MS: '0', BATCH_ZIP_MAX_RATIO: '50' });
    A = await svc.newSender('Batch sender A');
    B = await svc.newSender('Batch sender B');
    await svc.newRecipient('citizen', VALID_INSZ);
    await svc.newRecipient('enterprise', VALID_KBO);
    work = fs.mkdtempSync(path.join(svc.dataDir, '..', 'rm-batch-files-'));
  });
  after(async () => {
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  const auth = (s: { apiKey: string }) => ({ authorization: `Bearer ${s.apiKey}` });
  const post = (body: FormData | Buffer, headers: Record<string, string> = {}, who = A) =>
    fetch(`${svc.url}/v1/messages/batches`, { method: 'POST', body: (body instanceof Buffer ? new Uint8Array(body) : body) as BodyInit, headers: { ...auth(who), ...(body instanceof Buffer ? { 'content-type': 'application/zip' } : {}), ...headers } });
  const get = (p: string, who = A) => fetch(`${svc.url}${p}`, { headers: auth(who) });

  async function counts(): Promise<{ messages: number; batches: number; batchRows: number; objects: number; temp: number }> {
    const n = async (t: string) => Number(Object.values((await svc.rt.store.db(t).count({ n: '*' }).first()) ?? { n: 0 })[0]);
    const files = blobFiles(svc.dataDir);
    return { messages: await n('messages'), batches: await n('message_batches'), batchRows: await n('message_batch_rows'), objects: files.objects.length, temp: files.temp.length };
  }

  /** A refused request: its problem, and nothing left of it. */
  async function expectRefused(res: Response, status: number, code: string, before: Awaited<ReturnType<typeof counts>>): Promise<any> {
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(status);
    expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
    expect(body.code).to.equal(code);
    expect(await counts()).to.deep.equal({ ...before, temp: 0 });
    return body;
  }

  it('multipart: good rows become messages as POST /v1/messages makes them, bad rows are refused with its codes and leave nothing', async () => {
    const before = await counts();
    const manifest = [
      line(1, ['a1.pdf', 'a1-annex.pdf']),
      line(2, ['b1.pdf'], { recipient: { type: 'citizen', id: BAD_INSZ } }),
      line(3, ['c1.pdf'], { recipient: { type: 'enterprise', id: VALID_KBO } }),
      line(4, ['d1.html']),
      line(5, ['e1.pdf']), // named, never sent
    ];
    const docs: Doc[] = [
      { name: 'a1.pdf', bytes: pdfBytes(1500, 1) },
      { name: 'a1-annex.pdf', bytes: pdfBytes(900, 2) },
      { name: 'b1.pdf', bytes: pdfBytes(800, 3) },
      { name: 'c1.pdf', bytes: pdfBytes(700, 4) },
      { name: 'd1.html', bytes: '<html></html>', type: 'text/html' },
    ];
    // JSON lines, one row per line
    const res = await post(multipartBatch(manifest.map((r) => JSON.stringify(r)).join('\n'), docs));
    const batch = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(201);
    expect(res.headers.get('location')).to.equal(`/v1/messages/batches/${batch.id}`);
    expect(batch.form).to.equal('multipart');
    expect(batch.counts).to.deep.equal({ rows: 5, accepted: 2, refused: 3 });
    expect(batch.items.map((i: any) => [i.row, i.result, i.senderReference])).to.deep.equal([
      [1, 'accepted', 'BATCH-1'],
      [2, 'refused', 'BATCH-2'],
      [3, 'accepted', 'BATCH-3'],
      [4, 'refused', 'BATCH-4'],
      [5, 'refused', 'BATCH-5'],
    ]);
    const refused = batch.items.filter((i: any) => i.result === 'refused').map((i: any) => i.problem.code);
    expect(refused).to.deep.equal(['RECIPIENT_INVALID', 'DOCUMENT_MEDIA_TYPE_NOT_ALLOWED', 'DOCUMENT_MISSING']);
    expect(batch.items[4].problem).to.include({ status: 422, part: 'e1.pdf' });

    // the same rows sent one by one to POST /v1/messages are refused with the same codes
    const single = async (r: Record<string, unknown>, parts: Doc[]) => {
      const meta = { ...r, documents: (r.documents as Array<{ file: string; isMainContent: boolean }>).map((d) => ({ httpPartName: d.file, isMainContent: d.isMainContent })) };
      const s = await submit(svc, B.apiKey, meta, parts.map((p) => ({ name: p.name, content: p.bytes, type: p.type, fileName: p.name })));
      return (await s.json()).code;
    };
    expect(await single(manifest[1]!, [docs[2]!])).to.equal('RECIPIENT_INVALID');
    expect(await single(manifest[3]!, [docs[4]!])).to.equal('DOCUMENT_MEDIA_TYPE_NOT_ALLOWED');
    expect(await single(manifest[4]!, [])).to.equal('DOCUMENT_MISSING');

    // only the accepted rows left rows and objects: 2 messages, 3 documents
    const after = await counts();
    expect(after.messages - before.messages).to.equal(2);
    expect(after.objects - before.objects).to.equal(3);
    expect(after.temp).to.equal(0);
    expect(after.batches - before.batches).to.equal(1);

    // each accepted message has the same life as a single one
    const first = await waitForMessage(svc, A.apiKey, batch.items[0].messageId, (m) => m.status === 'DEPOSITED');
    expect(first.senderReference).to.equal('BATCH-1');
    expect(first.documents.map((d: any) => [d.fileName, d.size, d.isMainContent])).to.deep.equal([
      ['a1.pdf', 1500, true],
      ['a1-annex.pdf', 900, false],
    ]);
    expect(first.events.map((e: any) => e.type).slice(0, 1)).to.deep.equal(['MessageReceived']);
    const third = await waitForMessage(svc, A.apiKey, batch.items[2].messageId, (m) => m.status === 'DEPOSITED');
    expect(third.recipient).to.deep.include({ type: 'enterprise', id: VALID_KBO });

    // the batch now says DONE and counts its messages by status
    const now = await (await get(`/v1/messages/batches/${batch.id}`)).json();
    expect(now.status).to.equal('DONE');
    expect(now.messageStatuses).to.deep.equal({ DEPOSITED: 2 });
    expect(now.items[0]).to.include({ messageStatus: 'DEPOSITED' });
  });

  it("a batch message's proof of acceptance is a normal proof: openssl cms -verify -cades accepts it and it names the document's digest", async () => {
    const doc = pdfBytes(2048, 42);
    const res = await post(multipartBatch(JSON.stringify([line(1, ['proof.pdf'])]), [{ name: 'proof.pdf', bytes: doc }]));
    const batch = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(201);
    const id = batch.items[0].messageId;
    const m = await waitForMessage(svc, A.apiKey, id, (x) => x.evidence.length > 0);
    const ev = m.evidence[0];
    expect(ev.type).to.equal('SubmissionAcceptance');
    const der = Buffer.from(await (await get(`/v1/messages/${id}/evidence/${ev.id}`)).arrayBuffer());
    const file = path.join(work, 'batch-proof.p7s');
    fs.writeFileSync(file, der);
    const v = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file, '-CAfile', svc.rootPem]);
    expect(v.code, v.stderr).to.equal(0);
    const statement = JSON.parse(v.stdout.toString('utf8'));
    expect(statement.MessageIdentifier).to.equal(id);
    const sha = (await import('node:crypto')).createHash('sha256').update(doc).digest('hex');
    expect(JSON.stringify(statement)).to.include(sha);

    // a single POST /v1/messages of the same letter: its proof has the same shape, member for member
    const meta = { ...line(1, []), documents: [{ httpPartName: 'proof.pdf', isMainContent: true }] };
    const single = await (await submit(svc, A.apiKey, meta, [{ name: 'proof.pdf', content: doc, fileName: 'proof.pdf' }])).json();
    const sm = await waitForMessage(svc, A.apiKey, single.id, (x) => x.evidence.length > 0);
    const singleDer = Buffer.from(await (await get(`/v1/messages/${single.id}/evidence/${sm.evidence[0].id}`)).arrayBuffer());
    fs.writeFileSync(file, singleDer);
    const sv = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file, '-CAfile', svc.rootPem]);
    expect(sv.code, sv.stderr).to.equal(0);
    const singleStatement = JSON.parse(sv.stdout.toString('utf8'));
    const shape = (o: unknown): unknown => (Array.isArray(o) ? o.map(shape) : o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, shape(v)])) : typeof o);
    expect(shape(statement)).to.deep.equal(shape(singleStatement));
    expect(statement.ERDSEventId).to.equal(singleStatement.ERDSEventId);
    expect(statement.Documents).to.deep.equal(singleStatement.Documents);
  });

  it('ZIP made by Info-ZIP zip: manifest.jsonl with good and bad rows; types from the manifest or the extension', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'zip-'));
    fs.writeFileSync(path.join(dir, 'manifest.jsonl'), [line(1, ['z1.pdf']), line(2, ['z2.txt'], { subject: {} }), { ...line(3, ['z3.dat']), documents: [{ file: 'z3.dat', isMainContent: true, mediaType: 'application/pdf' }] }, line(4, ['z4.pdf'])].map((r) => JSON.stringify(r)).join('\n') + '\n');
    fs.writeFileSync(path.join(dir, 'z1.pdf'), pdfBytes(3000, 11));
    fs.writeFileSync(path.join(dir, 'z2.txt'), 'a letter in plain text');
    fs.writeFileSync(path.join(dir, 'z3.dat'), pdfBytes(1200, 12));
    fs.writeFileSync(path.join(dir, 'z4.pdf'), ''); // empty: DOCUMENT_EMPTY
    const archive = path.join(work, 'batch.zip');
    const z = await run('zip', ['-q', '-j', archive, ...['manifest.jsonl', 'z1.pdf', 'z2.txt', 'z3.dat', 'z4.pdf'].map((f) => path.join(dir, f))]);
    expect(z.code, z.stderr).to.equal(0);
    const before = await counts();
    const res = await post(fs.readFileSync(archive));
    const batch = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(201);
    expect(batch.form).to.equal('zip');
    expect(batch.items.map((i: any) => i.result)).to.deep.equal(['accepted', 'refused', 'accepted', 'refused']);
    expect(batch.items[1].problem.code).to.equal('SUBJECT_INVALID');
    expect(batch.items[3].problem.code).to.equal('DOCUMENT_EMPTY');
    const after = await counts();
    expect([after.messages - before.messages, after.objects - before.objects, after.temp]).to.deep.equal([2, 2, 0]);
    const m3 = await waitForMessage(svc, A.apiKey, batch.items[2].messageId, (m) => m.status !== 'RECEIVED');
    expect(m3.documents[0]).to.include({ fileName: 'z3.dat', mediaType: 'application/pdf', size: 1200 });
  });

  it('ZIP with manifest.json (a JSON array) made by the test writer, deflated and stored entries', async () => {
    const res = await post(zip([{ name: 'manifest.json', data: JSON.stringify([line(1, ['w1.pdf']), line(2, ['w2.pdf'])]) }, { name: 'w1.pdf', data: pdfBytes(5000, 21) }, { name: 'w2.pdf', data: pdfBytes(600, 22), method: 'store' }]));
    const batch = await res.json();
    expect(res.status, JSON.stringify(batch)).to.equal(201);
    expect(batch.counts).to.deep.equal({ rows: 2, accepted: 2, refused: 0 });
  });

  describe('hostile archives are refused whole and leave nothing', () => {
    const ok = (n: number) => ({ name: `h${n}.pdf`, data: pdfBytes(500, 30 + n) });
    const manifest = (files: string[]) => ({ name: 'manifest.json', data: JSON.stringify(files.map((f, i) => line(i + 1, [f]))) });

    it('a name that climbs out: ../x (PATH_TRAVERSAL)', async () => {
      const before = await counts();
      const body = await expectRefused(await post(zip([manifest(['h1.pdf']), ok(1), { name: '../x', data: 'escape' }])), 422, 'ARCHIVE_UNSAFE', before);
      expect(body).to.include({ reason: 'PATH_TRAVERSAL', entry: '../x' });
      for (const name of ['/etc/passwd', 'a/../../x', 'C:evil', 'dir\\..\\x']) {
        const b = await expectRefused(await post(zip([manifest(['h1.pdf']), ok(1), { name, data: 'escape' }])), 422, 'ARCHIVE_UNSAFE', before);
        expect(b.reason, name).to.equal('PATH_TRAVERSAL');
      }
    });

    it('a bomb: an entry that inflates far beyond the ratio (COMPRESSION_RATIO), before any byte is inflated', async () => {
      const before = await counts();
      const bomb = { name: 'h2.pdf', data: new Uint8Array(8 * 1024 * 1024) }; // 8 MiB of zeros deflate to about 8 KiB
      const body = await expectRefused(await post(zip([manifest(['h1.pdf', 'h2.pdf']), ok(1), bomb])), 422, 'ARCHIVE_UNSAFE', before);
      expect(body).to.include({ reason: 'COMPRESSION_RATIO', entry: 'h2.pdf' });
    });

    it('two entries with one name (DUPLICATE_ENTRY)', async () => {
      const before = await counts();
      const body = await expectRefused(await post(zip([manifest(['h1.pdf']), ok(1), { name: 'h1.pdf', data: pdfBytes(500, 99) }])), 422, 'ARCHIVE_UNSAFE', before);
      expect(body).to.include({ reason: 'DUPLICATE_ENTRY', entry: 'h1.pdf' });
    });

    it('an entry no row names (DOCUMENT_PART_UNDECLARED, as a multipart part no row names)', async () => {
      const before = await counts();
      const body = await expectRefused(await post(zip([manifest(['h1.pdf']), ok(1), ok(2)])), 422, 'DOCUMENT_PART_UNDECLARED', before);
      expect(body.part).to.equal('h2.pdf');
      const form = multipartBatch(JSON.stringify([line(1, ['h1.pdf'])]), [
        { name: 'h1.pdf', bytes: pdfBytes(500, 1) },
        { name: 'stray.pdf', bytes: pdfBytes(500, 2) },
      ]);
      expect((await expectRefused(await post(form), 422, 'DOCUMENT_PART_UNDECLARED', before)).part).to.equal('stray.pdf');
    });

    it('a symbolic link, as Info-ZIP zip --symlinks stores it (LINK_OR_DEVICE)', async () => {
      const dir = fs.mkdtempSync(path.join(work, 'link-'));
      fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify([line(1, ['h1.pdf'])]));
      fs.symlinkSync('/etc/passwd', path.join(dir, 'h1.pdf'));
      const archive = path.join(work, 'link.zip');
      const z = await run('zip', ['-q', '-j', '--symlinks', archive, path.join(dir, 'manifest.json'), path.join(dir, 'h1.pdf')]);
      expect(z.code, z.stderr).to.equal(0);
      const before = await counts();
      const body = await expectRefused(await post(fs.readFileSync(archive)), 422, 'ARCHIVE_UNSAFE', before);
      expect(body).to.include({ reason: 'LINK_OR_DEVICE', entry: 'h1.pdf' });
      // the writer's own link entry too
      const b2 = await expectRefused(await post(zip([manifest(['h1.pdf']), { name: 'h1.pdf', data: '/etc/passwd', unixMode: 0o120777 }])), 422, 'ARCHIVE_UNSAFE', before);
      expect(b2.reason).to.equal('LINK_OR_DEVICE');
    });

    it('what is no ZIP, and a ZIP with no manifest', async () => {
      const before = await counts();
      await expectRefused(await post(Buffer.from('%PDF-1.7 not an archive')), 400, 'ARCHIVE_INVALID', before);
      await expectRefused(await post(zip([ok(1)])), 400, 'BATCH_MANIFEST_MISSING', before);
    });
  });

  it('requests refused whole: every row refused, no manifest first, a manifest that is not JSON, the wrong media type', async () => {
    const before = await counts();
    const all = await expectRefused(
      await post(multipartBatch(JSON.stringify([line(1, ['x1.pdf'], { recipient: { type: 'citizen', id: BAD_INSZ } }), line(2, ['x2.pdf'])]), [{ name: 'x1.pdf', bytes: pdfBytes(500, 1) }])),
      422,
      'BATCH_REFUSED',
      before,
    );
    expect(all.rows.map((r: any) => [r.row, r.code])).to.deep.equal([
      [1, 'RECIPIENT_INVALID'],
      [2, 'DOCUMENT_MISSING'],
    ]);
    await expectRefused(await post(multipartBatch(JSON.stringify([line(1, ['x1.pdf'])]), [{ name: 'x1.pdf', bytes: pdfBytes(500, 1) }], false)), 400, 'BATCH_MANIFEST_MISSING', before);
    await expectRefused(await post(multipartBatch('[{"recipient": ', [])), 400, 'BATCH_MANIFEST_INVALID', before);
    const json = await fetch(`${svc.url}/v1/messages/batches`, { method: 'POST', headers: { ...auth(A), 'content-type': 'application/json' }, body: '[]' });
    await expectRefused(json, 415, 'UNSUPPORTED_MEDIA_TYPE', before);
    const unauthenticated = await fetch(`${svc.url}/v1/messages/batches`, { method: 'POST', body: multipartBatch('[]', []) });
    expect(unauthenticated.status).to.equal(401);
  });

  it('limits: more rows than BATCH_MAX_ROWS, a body larger than BATCH_MAX_BYTES (BATCH_TOO_LARGE)', async () => {
    const small = await startTestService({ BATCH_MAX_ROWS: '2', BATCH_MAX_BYTES: '20000' });
    try {
      const s = await small.newSender();
      const p = (body: FormData | Buffer) => fetch(`${small.url}/v1/messages/batches`, { method: 'POST', body: (body instanceof Buffer ? new Uint8Array(body) : body) as BodyInit, headers: { authorization: `Bearer ${s.apiKey}`, ...(body instanceof Buffer ? { 'content-type': 'application/zip' } : {}) } });
      const rows = await p(multipartBatch(JSON.stringify([line(1, ['a.pdf']), line(2, ['b.pdf']), line(3, ['c.pdf'])]), []));
      expect(rows.status).to.equal(413);
      expect((await rows.json()).code).to.equal('BATCH_TOO_LARGE');
      const big = await p(multipartBatch(JSON.stringify([line(1, ['a.pdf'])]), [{ name: 'a.pdf', bytes: pdfBytes(30000, 1) }]));
      expect(big.status).to.equal(413);
      expect((await big.json()).code).to.equal('BATCH_TOO_LARGE');
      const bigZip = await p(zip([{ name: 'manifest.json', data: JSON.stringify([line(1, ['a.pdf'])]) }, { name: 'a.pdf', data: pdfBytes(30000, 1), method: 'store' }]));
      expect(bigZip.status).to.equal(413);
      expect((await bigZip.json()).code).to.equal('BATCH_TOO_LARGE');
      expect(blobFiles(small.dataDir).temp).to.deep.equal([]);
      expect(Number(Object.values((await small.rt.store.db('messages').count({ n: '*' }).first())!)[0])).to.equal(0);
    } finally {
      await small.close();
    }
  });

  it('uploads dropped midway (multipart, ZIP) leave no temp file and no row', async () => {
    const before = await counts();
    const boundary = 'b' + randomUUID();
    const manifest = JSON.stringify([line(1, ['d1.pdf']), line(2, ['d2.pdf'])]);
    const head = (type: string) => requestHead('/v1/messages/batches', { authorization: `Bearer ${A.apiKey}`, 'content-type': type, 'content-length': 5_000_000 });
    const parts =
      `--${boundary}\r\nContent-Disposition: form-data; name="manifest"\r\n\r\n${manifest}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="d1.pdf"; filename="d1.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
    const archive = zip([{ name: 'manifest.json', data: manifest }, { name: 'd1.pdf', data: pdfBytes(300_000, 1), method: 'store' }]);
    /** resolves, with more bytes to send, once the service is staging (a temp file exists): the drop comes mid-upload */
    const whenStaging = async (more: Buffer): Promise<Buffer> => {
      const deadline = Date.now() + 20_000;
      while (blobFiles(svc.dataDir).temp.length === 0) {
        if (Date.now() > deadline) throw new Error('the service never began staging the upload');
        await new Promise((r) => setTimeout(r, 20));
      }
      return more;
    };
    const gone = async () => {
      const deadline = Date.now() + 20_000;
      while (blobFiles(svc.dataDir).temp.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    await rawRequest(svc.url, [head(`multipart/form-data; boundary=${boundary}`), parts, Buffer.from(pdfBytes(200_000, 2)), whenStaging(Buffer.from(pdfBytes(1000, 3)))], { after: 'destroy' });
    await gone();
    await rawRequest(svc.url, [head('application/zip'), archive.subarray(0, 100_000), whenStaging(archive.subarray(100_000, 101_000))], { after: 'destroy' });
    await gone();
    expect(await counts()).to.deep.equal({ ...before, temp: 0 });
    expect((await fetch(`${svc.url}/healthz`)).status).to.equal(200);
  });

  it("another sender's batch, and one that does not exist, are 404", async () => {
    const res = await post(multipartBatch(JSON.stringify([line(1, ['own.pdf'])]), [{ name: 'own.pdf', bytes: pdfBytes(500, 5) }]));
    const batch = await res.json();
    expect(res.status).to.equal(201);
    const other = await get(`/v1/messages/batches/${batch.id}`, B);
    expect(other.status).to.equal(404);
    expect((await other.json()).code).to.equal('NOT_FOUND');
    expect((await get(`/v1/messages/batches/${randomUUID()}`)).status).to.equal(404);
    expect((await get(`/v1/messages/batches/${batch.id}`)).status).to.equal(200);
    // nor can B read the message the batch made
    expect((await get(`/v1/messages/${batch.items[0].messageId}`, B)).status).to.equal(404);
  });

  it('Idempotency-Key: the same request answers the same batch, another request with the key is 409', async () => {
    const key = randomUUID();
    const manifest = JSON.stringify([line(1, ['i1.pdf']), line(2, ['i2.pdf'], { recipient: { type: 'citizen', id: BAD_INSZ } })]);
    const docs = [
      { name: 'i1.pdf', bytes: pdfBytes(700, 61) },
      { name: 'i2.pdf', bytes: pdfBytes(700, 62) },
    ];
    const first = await post(multipartBatch(manifest, docs), { 'idempotency-key': key });
    const a = await first.json();
    expect(first.status, JSON.stringify(a)).to.equal(201);
    const before = await counts();
    const again = await post(multipartBatch(manifest, docs), { 'idempotency-key': key });
    const b = await again.json();
    expect(again.status).to.equal(201);
    expect(again.headers.get('idempotent-replayed')).to.equal('true');
    expect(b.id).to.equal(a.id);
    expect(b.items.map((i: any) => i.messageId ?? null)).to.deep.equal(a.items.map((i: any) => i.messageId ?? null));
    expect(await counts()).to.deep.equal(before);
    const other = await post(multipartBatch(manifest, [docs[0]!, { name: 'i2.pdf', bytes: pdfBytes(700, 63) }]), { 'idempotency-key': key });
    expect(other.status).to.equal(409);
    expect(await other.json()).to.include({ code: 'IDEMPOTENCY_KEY_REUSED', batchId: a.id });
    expect(await counts()).to.deep.equal(before);
  });

  it('Idempotency-Key: two identical requests at once make one batch, and both answer it', async () => {
    const key = randomUUID();
    const manifest = JSON.stringify([line(1, ['race.pdf'])]);
    const form = () => {
      const f = new FormData();
      // the manifest as a file part this time (curl -F manifest=@manifest.json)
      f.append('manifest', new Blob([manifest], { type: 'application/json' }), 'manifest.json');
      f.append('race.pdf', new Blob([new Uint8Array(pdfBytes(800, 77))], { type: 'application/pdf' }), 'race.pdf');
      return f;
    };
    const before = await counts();
    const [a, b] = await Promise.all([post(form(), { 'idempotency-key': key }), post(form(), { 'idempotency-key': key })]);
    const [ja, jb] = [await a.json(), await b.json()];
    expect([a.status, b.status], JSON.stringify([ja, jb])).to.deep.equal([201, 201]);
    expect(ja.id).to.equal(jb.id);
    expect(ja.items[0].messageId).to.equal(jb.items[0].messageId);
    const after = await counts();
    expect([after.batches - before.batches, after.messages - before.messages, after.objects - before.objects, after.temp]).to.deep.equal([1, 1, 1, 0]);
  });

  it('GET pages through the rows with a cursor', async () => {
    const rows = [1, 2, 3, 4, 5].map((n) => line(n, [`p${n}.pdf`]));
    const res = await post(multipartBatch(JSON.stringify(rows), rows.map((_, i) => ({ name: `p${i + 1}.pdf`, bytes: pdfBytes(400, 70 + i) }))));
    const batch = await res.json();
    expect(res.status).to.equal(201);
    const seen: number[] = [];
    let next: string | null = `/v1/messages/batches/${batch.id}?limit=2`;
    while (next) {
      const page: any = await (await get(next)).json();
      expect(page.items.length).to.be.at.most(2);
      seen.push(...page.items.map((i: any) => i.row));
      next = page.next;
    }
    expect(seen).to.deep.equal([1, 2, 3, 4, 5]);
    expect((await get(`/v1/messages/batches/${batch.id}?limit=0`)).status).to.equal(400);
    expect((await get(`/v1/messages/batches/${batch.id}?cursor=x`)).status).to.equal(400);
  });
});
