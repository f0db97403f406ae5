/**
 * SIGKILL the service at random moments while 300 submissions stream in, with clients
 * that retry with their Idempotency-Key until acknowledged; restart it each time. Then:
 * every acknowledged message reaches DEPOSITED with exactly its two proofs, none is
 * duplicated, no job is stuck, every document row has its bytes (right digest), no blob
 * lacks its row, no temp file remains, and the event log's hash chain holds.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { verifyEventChain } from '../../src/domain/EventChain.js';
import { openDatabase } from '../../src/store/database.js';
import { Store } from '../../src/store/Store.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { blobFiles, FAST_WORKER_ENV, metadata, pdfBytes, VALID_INSZ } from '../helpers/service.js';

/** A seeded generator, so that a failing run can be replayed (the seed is printed). */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** One multipart POST, streamed in chunks with pauses (so that a kill can land mid-upload). */
function upload(url: string, apiKey: string, key: string, body: Uint8Array, pauseMs: number): Promise<{ status: number; id?: string }> {
  const boundary = 'crash' + randomUUID();
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(metadata())}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="doc.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/messages`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Bearer ${apiKey}`, 'idempotency-key': key, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + body.length + tail.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, id: JSON.parse(text).id });
        } catch {
          resolve({ status: -1 });
        }
      });
      res.on('error', () => resolve({ status: -1 }));
    });
    req.on('error', () => resolve({ status: -1 }));
    (async () => {
      req.write(head);
      const chunk = 16 * 1024;
      for (let i = 0; i < body.length; i += chunk) {
        if (req.destroyed) return;
        req.write(body.subarray(i, i + chunk));
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      }
      req.end(tail);
    })();
  });
}

describe(`crash safety: SIGKILL during 300 submissions (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(300_000);
  let dataDir: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let proc: ServiceProcess | undefined;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-crash-'));
    db = await createTestDatabase(dataDir);
    env = { APP_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR, SUBMIT_WAIT_MS: '2000', ...FAST_WORKER_ENV, JOB_LEASE_MS: '3000' };
  });
  after(async () => {
    if (proc) await kill(proc);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing acknowledged, duplicates nothing, leaves nothing half-written', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Crash sender', '--json'], env));
    await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], env);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;

    const total = Number(process.env.CRASH_SUBMISSIONS ?? 300);
    const work = Array.from({ length: total }, (_, i) => {
      const body = pdfBytes(2_000 + Math.floor(rand() * 150_000), seed + i);
      return { key: randomUUID(), body, sha256: createHash('sha256').update(body).digest('hex'), slow: rand() < 0.25, id: undefined as string | undefined, tries: 0 };
    });

    proc = await startServiceProcess(env, port);
    let done = false;
    let kills = 0;
    const killer = (async () => {
      while (!done && kills < 25) {
        await new Promise((r) => setTimeout(r, 400 + rand() * 1600));
        if (done) break;
        await kill(proc!);
        kills++;
        proc = await startServiceProcess(env, port);
      }
    })();

    let next = 0;
    const client = async () => {
      while (next < work.length) {
        const w = work[next++]!;
        for (;;) {
          w.tries++;
          const r = await upload(url, apiKey, w.key, w.body, w.slow ? 15 : 0);
          if (r.status === 201 || r.status === 202) {
            w.id = r.id;
            break;
          }
          expect(r.status, 'only a connection cut may fail a valid submission').to.equal(-1);
          await new Promise((res) => setTimeout(res, 50 + rand() * 200));
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, client));
    done = true;
    await killer;

    // All acknowledged: let the worker finish, then look at what the store holds.
    const store = new Store(openDatabase(loadConfig(env).database));
    try {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const open = await store.db('jobs').whereNotNull('message_id').whereIn('status', ['pending', 'running']).count({ n: '*' }).first();
        if (Number(open?.n) === 0) break;
        if (Date.now() > deadline) throw new Error(`jobs still open: ${open?.n}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      await kill(proc!, 'SIGTERM');
      proc = undefined;
      console.log(`      seed ${seed}: ${total} acknowledged after ${kills} kills, ${work.reduce((n, w) => n + w.tries, 0) - total} retries`);

      const messages: Array<{ id: string; status: string }> = await store.db('messages').select('id', 'status');
      expect(messages.length, 'one message per Idempotency-Key').to.equal(total);
      expect(new Set(work.map((w) => w.id)).size).to.equal(total);
      expect(messages.filter((m) => m.status !== 'DEPOSITED')).to.deep.equal([]);
      const keys = await store.db('idempotency_keys').select('key', 'message_id');
      const byKey = new Map(keys.map((k: { key: string; message_id: string }) => [k.key, k.message_id]));
      for (const w of work) expect(byKey.get(w.key)).to.equal(w.id);

      const dead = await store.db('jobs').where({ status: 'dead' }).select('type', 'last_error');
      expect(dead).to.deep.equal([]);
      for (const w of work) {
        const evidence = await store.evidence.listForMessage(w.id!);
        expect(evidence.map((e) => `${e.seq}:${e.type}`)).to.deep.equal(['1:SubmissionAcceptance', '2:ContentConsignment']);
        expect(JSON.parse(evidence[1]!.statement).PreviousEvidenceDigest.DigestValue).to.equal(evidence[0]!.sha256);
        const docs = await store.messages.documents(w.id!);
        expect(docs.map((d) => d.sha256)).to.deep.equal([w.sha256]);
      }
      const mailbox = await store.db('mailbox').count({ n: '*' }).first();
      expect(Number(mailbox?.n), 'each message deposited once').to.equal(total);

      const docs: Array<{ blob_key: string; sha256: string }> = await store.db('documents').select('blob_key', 'sha256');
      const { objects, temp } = blobFiles(dataDir);
      const onDisk = new Map(objects.map((f) => [path.basename(f), f]));
      expect(temp, 'temp files left behind').to.deep.equal([]);
      for (const d of docs) {
        const file = onDisk.get(d.blob_key);
        expect(file, `document row ${d.blob_key} without its bytes`).to.be.a('string');
        expect(createHash('sha256').update(fs.readFileSync(file!)).digest('hex')).to.equal(d.sha256);
      }
      const referenced = new Set(docs.map((d) => d.blob_key));
      expect([...onDisk.keys()].filter((k) => !referenced.has(k)), 'blobs without a row').to.deep.equal([]);
      expect(verifyEventChain(await store.events.range(1, Number.MAX_SAFE_INTEGER, 1_000_000))).to.equal(undefined);
    } finally {
      await store.close();
    }
  });
});
