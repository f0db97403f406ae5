/**
 * The blob sweep that every process start runs must never delete what is acknowledged or
 * still being written: an object whose commit is in progress, or the temp file of an upload
 * that another process is receiving.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { sweepBlobs } from '../../src/store/BlobSweep.js';
import { createLogger } from '../../src/logger.js';
import type { StagedBlob } from '../../src/store/FsBlobStore.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { multipartHead, rawRequest, requestHead } from '../helpers/raw-http.js';
import { blobFiles, FAST_WORKER_ENV, metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';
import { shardOf } from '../../src/store/FsBlobStore.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const quiet = createLogger('silent');

describe(`a start-up sweep deletes acknowledged documents (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);

  describe('in one service', () => {
    let svc: TestService;
    let key: string;
    before(async () => {
      svc = await startTestService();
      key = (await svc.newSender()).apiKey;
      await svc.newRecipient('citizen', VALID_INSZ);
    });
    after(async () => svc?.close());

    it('does not delete an object between its rename into place and the commit of its row', async () => {
      const blobs = svc.rt.blobs;
      const commit = blobs.commit.bind(blobs);
      let reached!: () => void;
      const atGate = new Promise<void>((r) => (reached = r));
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      // the bytes are in place; the row is not written yet
      blobs.commit = async (staged: StagedBlob, k: string) => {
        await commit(staged, k);
        reached();
        await gate;
      };
      try {
        const doc = pdfBytes(30_000, 11);
        const answer = submit(svc, key, metadata(), [{ name: 'main', content: doc }]);
        await atGate;
        let swept = false;
        const sweep = sweepBlobs(svc.rt.store, blobs, { tempMaxAgeMs: 60_000, log: quiet }).finally(() => (swept = true));
        // give a sweep that does not wait for the commit every chance to run
        for (let i = 0; i < 40 && !swept; i++) await new Promise((r) => setTimeout(r, 50));
        expect(swept, 'the sweep waits for the commit in progress').to.equal(false);
        open();
        const res = await answer;
        expect(res.status).to.be.oneOf([201, 202]);
        const body = await res.json();
        const report = await sweep;
        expect(report).to.deep.include({ orphans: 0, missing: 0 });
        const docs = await svc.rt.store.messages.documents(body.id);
        expect(await blobs.exists(docs[0]!.blobKey)).to.equal(true);
        expect(sha256(fs.readFileSync(path.join(svc.dataDir, 'blobs', 'objects', shardOf(docs[0]!.blobKey), docs[0]!.blobKey)))).to.equal(sha256(doc));
      } finally {
        blobs.commit = commit;
        open();
      }
    });

    it('removes an object no row names, and raises the alarm for a row whose bytes are gone', async () => {
      const blobs = svc.rt.blobs;
      const orphan = randomUUID();
      await blobs.commit(await blobs.stage((await import('node:stream')).Readable.from([Buffer.from('orphan')]), 100), orphan);
      const res = await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(1000, 12) }]);
      const { id } = await res.json();
      const [doc] = await svc.rt.store.messages.documents(id);
      await blobs.remove(doc!.blobKey);
      const lines: string[] = [];
      const log = createLogger('info', { write: (l: string) => void lines.push(l) });
      const report = await sweepBlobs(svc.rt.store, blobs, { tempMaxAgeMs: 60_000, log });
      expect(report).to.deep.equal({ tempFiles: 0, orphans: 1, missing: 1 });
      expect(await blobs.exists(orphan)).to.equal(false);
      const alarm = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50);
      expect(alarm?.msg).to.match(/^ALARM: document bytes missing/);
      expect(alarm?.messages).to.deep.equal([id]);
    });
  });

  describe('beside another process', () => {
    let dataDir: string;
    let db: TestDatabase;
    let env: Record<string, string>;
    let api: ServiceProcess | undefined;
    let worker: ServiceProcess | undefined;
    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-sweep-'));
      db = await createTestDatabase(dataDir);
      env = { APP_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR, SUBMIT_WAIT_MS: '2000', ...FAST_WORKER_ENV };
    });
    after(async () => {
      if (worker) await kill(worker);
      if (api) await kill(api);
      await db?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("a worker starting while the API receives an upload keeps the upload's temp file; the upload is accepted whole", async () => {
      const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Sweep sender', '--json'], env));
      await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], env);
      api = await startServiceProcess(env, await freePort(), ['--role', onPostgres ? 'api' : 'all']);
      const doc = Buffer.from(pdfBytes(200_000, 13));
      const boundary = 'b' + randomUUID();
      const head = Buffer.from(multipartHead(boundary, JSON.stringify(metadata())));
      const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
      const httpHead = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + doc.length + tail.length });
      // the first half now, the rest once the worker has started (and swept)
      const half = 100_000;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const answer = rawRequest(api.url, [httpHead, head, doc.subarray(0, half), released.then(() => Buffer.concat([doc.subarray(half), tail]))], { after: 'wait', timeoutMs: 60_000 });
      const deadline = Date.now() + 20_000;
      while (blobFiles(dataDir).temp.length === 0) {
        expect(Date.now(), 'the upload reaches the disk').to.be.below(deadline);
        await new Promise((r) => setTimeout(r, 20));
      }
      worker = await startServiceProcess(env, 0, ['--role', 'worker']);
      expect(blobFiles(dataDir).temp, "the upload's temp file, after the worker's start-up sweep").to.have.length(1);
      release();
      const a = await answer;
      expect(a.status, a.raw.slice(0, 300)).to.be.oneOf([201, 202]);
      const id = JSON.parse(a.body).id;
      const detail = await (await fetch(`${api.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
      expect(detail.documents[0].sha256).to.equal(sha256(doc));
    });
  });
});
