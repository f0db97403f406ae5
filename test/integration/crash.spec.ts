/**
 * Kill the service (SIGKILL) while uploads are in flight, restart it, and check that
 * nothing acknowledged was lost and nothing half-written was left: every 201 has its
 * rows, its proof and its bytes (with the right digest); no row lacks its blob; no blob
 * lacks its row; no temp file remains.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { openDatabase } from '../../src/store/database.js';
import { loadConfig } from '../../src/config.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { blobFiles, metadata, pdfBytes } from '../helpers/service.js';

interface Upload {
  size: number;
  sha256: string;
  result?: { status: number; id?: string };
}

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

/** Streams a multipart submission in chunks with pauses, so that a kill lands mid-upload. */
function slowUpload(url: string, apiKey: string, body: Uint8Array, pauseMs: number): Promise<{ status: number; id?: string }> {
  const boundary = 'crashtestboundary' + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n${JSON.stringify(metadata())}\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="doc.pdf"\r\nContent-Type: application/pdf\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + body.length + tail.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode!, id: JSON.parse(text).id });
        } catch {
          resolve({ status: res.statusCode! });
        }
      });
      res.on('error', () => resolve({ status: -1 }));
    });
    req.on('error', () => resolve({ status: -1 }));
    (async () => {
      req.write(head);
      const chunk = 32 * 1024;
      for (let i = 0; i < body.length; i += chunk) {
        if (req.destroyed) return;
        req.write(body.subarray(i, i + chunk));
        await new Promise((r) => setTimeout(r, pauseMs));
      }
      req.end(tail);
    })();
  });
}

describe(`crash safety: SIGKILL during uploads (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let dataDir: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let proc: ServiceProcess | undefined;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-crash-'));
    db = await createTestDatabase(dataDir);
    env = { APP_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR };
  });
  after(async () => {
    if (proc) await kill(proc);
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no acknowledged message and leaves no orphan after restart', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const { apiKey } = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Crash sender', '--json'], env));
    const port = await freePort();
    const uploads: Upload[] = [];

    for (let round = 0; round < 3; round++) {
      proc = await startServiceProcess(env, port);
      const inFlight: Array<Promise<void>> = [];
      for (let i = 0; i < 16; i++) {
        const size = 20_000 + Math.floor(rand() * 600_000);
        const body = pdfBytes(size, seed + round * 100 + i);
        const u: Upload = { size, sha256: createHash('sha256').update(body).digest('hex') };
        uploads.push(u);
        inFlight.push(slowUpload(proc.url, apiKey, body, 20 + Math.floor(rand() * 40)).then((r) => void (u.result = r)));
      }
      await new Promise((r) => setTimeout(r, 150 + rand() * 600));
      await kill(proc);
      await Promise.all(inFlight);
    }

    proc = await startServiceProcess(env, port);
    const acknowledged = uploads.filter((u) => u.result?.status === 201);
    const refusedOrCut = uploads.filter((u) => u.result?.status !== 201);
    console.log(`      seed ${seed}: ${acknowledged.length} acknowledged, ${refusedOrCut.length} cut by the kill`);
    expect(acknowledged.length, 'some uploads should complete before a kill').to.be.greaterThan(0);
    expect(refusedOrCut.length, 'some uploads should be cut by a kill').to.be.greaterThan(0);
    expect(refusedOrCut.every((u) => u.result?.status === -1), JSON.stringify(refusedOrCut.map((u) => u.result))).to.equal(true);

    for (const u of acknowledged) {
      const res = await fetch(`${proc.url}/v1/messages/${u.result!.id}`, { headers: { authorization: `Bearer ${apiKey}` } });
      expect(res.status).to.equal(200);
      const m = await res.json();
      expect(m.status).to.equal('ACCEPTED');
      expect(m.documents[0].sha256).to.equal(u.sha256);
      expect(m.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance']);
    }
    await kill(proc, 'SIGTERM');
    proc = undefined;

    // The store as the restart left it.
    const knex = openDatabase(loadConfig(env).database);
    try {
      const docs: Array<{ blob_key: string; sha256: string; message_id: string }> = await knex('documents').select('blob_key', 'sha256', 'message_id');
      const messages: Array<{ id: string }> = await knex('messages').select('id');
      const withEvidence = new Set((await knex('evidence').select('message_id')).map((r: { message_id: string }) => r.message_id));
      const { objects, temp } = blobFiles(dataDir);
      const onDisk = new Map(objects.map((f) => [path.basename(f), f]));

      expect(temp, 'temp files left behind').to.deep.equal([]);
      expect(messages.filter((m) => !withEvidence.has(m.id)), 'messages without their proof').to.deep.equal([]);
      for (const d of docs) {
        const file = onDisk.get(d.blob_key);
        expect(file, `document row ${d.blob_key} without its bytes`).to.be.a('string');
        expect(createHash('sha256').update(fs.readFileSync(file!)).digest('hex')).to.equal(d.sha256);
      }
      const referenced = new Set(docs.map((d) => d.blob_key));
      expect([...onDisk.keys()].filter((k) => !referenced.has(k)), 'blobs without a row').to.deep.equal([]);
      expect(new Set(messages.map((m) => m.id))).to.include.all.keys(acknowledged.map((u) => u.result!.id!));
    } finally {
      await knex.destroy();
    }
  });
});
