/**
 * Uploads a hostile or broken client sends, against the service as a real process (a defect
 * here used to stop it): bodies that end inside a document part, uploads dropped midway,
 * a document part sent twice. Each must answer a problem (or nothing, when the client is
 * gone), leave no temp file, no open descriptor and no row, and leave the process serving.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { freePort, kill, runScript, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { multipartHead, rawRequest, requestHead } from '../helpers/raw-http.js';
import { blobFiles, FAST_WORKER_ENV, metadata, pdfBytes, VALID_INSZ } from '../helpers/service.js';

describe(`hostile uploads against the service process (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let dataDir: string;
  let db: TestDatabase;
  let proc: ServiceProcess;
  let store: Repositories;
  let apiKey: string;
  let env: Record<string, string>;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-hostile-'));
    db = await createTestDatabase(dataDir);
    env = { APP_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: db.url, DEV_CERTS_DIR: TEST_CERTS_DIR, SUBMIT_WAIT_MS: '2000', ...FAST_WORKER_ENV };
    apiKey = JSON.parse(await runScript('scripts/create-sender.ts', ['--name', 'Hostile sender', '--json'], env)).apiKey;
    await runScript('scripts/create-recipient.ts', ['--type', 'citizen', '--id', VALID_INSZ, '--json'], env);
    proc = await startServiceProcess(env, await freePort());
    store = new Repositories(openDatabase(loadConfig(env).database));
  });
  // one test that stops the process must not take the others with it
  beforeEach(async () => {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) proc = await startServiceProcess(env, await freePort());
  });
  after(async () => {
    if (proc) await kill(proc);
    await store?.close();
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** The process still runs and answers. */
  async function expectAlive(): Promise<void> {
    expect(proc.child.exitCode, `the service exited:\n${proc.output()}`).to.equal(null);
    expect(proc.child.signalCode).to.equal(null);
    const res = await fetch(`${proc.url}/healthz`);
    expect(res.status).to.equal(200);
  }

  /** Nothing of a refused or abandoned upload remains: no temp file, no descriptor on one, no message row. */
  async function expectNothingLeft(): Promise<void> {
    const tmpDir = path.join(dataDir, 'blobs', 'tmp');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const temp = blobFiles(dataDir).temp;
      const open = openFilesUnder(proc.child.pid!, tmpDir);
      if (temp.length === 0 && open.length === 0) break;
      if (Date.now() > deadline) expect({ temp, open }, 'temp files or descriptors left').to.deep.equal({ temp: [], open: [] });
      await new Promise((r) => setTimeout(r, 50));
    }
    const rows = await store.db('messages').count({ n: '*' }).first();
    expect(Number(rows?.n), 'message rows').to.equal(0);
    expect(blobFiles(dataDir).objects, 'committed objects').to.deep.equal([]);
  }

  function problem(a: { status?: number; headers: Record<string, string>; body: string }): { code?: string } {
    expect(a.headers['content-type']).to.match(/^application\/problem\+json/);
    return JSON.parse(a.body);
  }

  const meta = JSON.stringify(metadata());

  describe('one truncated upload kills the process', () => {
    it('Content-Length cut short, the body ending inside a document part: 400 MULTIPART_INVALID', async () => {
      const boundary = 'b' + randomUUID();
      const body = Buffer.from(multipartHead(boundary, meta) + 'x'.repeat(50_000) + `\r\n--${boundary}--\r\n`);
      const short = body.length - 30_000;
      const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': short });
      const a = await rawRequest(proc.url, [head, body.subarray(0, short)]);
      expect(a.status, JSON.stringify(a.raw.slice(0, 600))).to.equal(400);
      expect(problem(a).code).to.equal('MULTIPART_INVALID');
      await expectAlive();
      await expectNothingLeft();
    });

    it('a complete body without its closing boundary: 400 MULTIPART_INVALID', async () => {
      const boundary = 'b' + randomUUID();
      const body = multipartHead(boundary, meta) + '%PDF-1.4 a letter without its end';
      const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': Buffer.byteLength(body) });
      const a = await rawRequest(proc.url, [head, body]);
      expect(a.status, JSON.stringify(a.raw.slice(0, 600))).to.equal(400);
      expect(problem(a).code).to.equal('MULTIPART_INVALID');
      await expectAlive();
      await expectNothingLeft();
    });

    it('chunked encoding ended early, inside a document part: 400 MULTIPART_INVALID', async () => {
      const boundary = 'b' + randomUUID();
      const part = multipartHead(boundary, meta) + 'y'.repeat(20_000);
      const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' });
      const chunk = `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n0\r\n\r\n`;
      const a = await rawRequest(proc.url, [head, chunk]);
      expect(a.status, JSON.stringify(a.raw.slice(0, 600))).to.equal(400);
      expect(problem(a).code).to.equal('MULTIPART_INVALID');
      await expectAlive();
      await expectNothingLeft();
    });

    it('a chunked body whose connection closes mid-chunk: no answer possible, nothing left, the process serving', async () => {
      const boundary = 'b' + randomUUID();
      const part = multipartHead(boundary, meta) + 'z'.repeat(20_000);
      const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' });
      // announces 100,000 bytes, sends fewer, then half-closes
      await rawRequest(proc.url, [head, `186a0\r\n${part}`], { after: 'end', timeoutMs: 5000 });
      await expectAlive();
      await expectNothingLeft();
    });
  });

  describe('client-aborted uploads leak', () => {
    it('a client that drops the connection mid-document leaves no temp file and no open descriptor', async () => {
      const boundary = 'b' + randomUUID();
      const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 5_000_000 });
      const chunks: Array<string | Buffer> = [head, multipartHead(boundary, meta)];
      for (let i = 0; i < 20; i++) chunks.push(Buffer.from(pdfBytes(16 * 1024, i + 1)));
      await rawRequest(proc.url, chunks, { after: 'destroy', pauseMs: 5 });
      await expectAlive();
      await expectNothingLeft();
    });

    it('twenty dropped uploads at once leave nothing either', async () => {
      await Promise.all(
        Array.from({ length: 20 }, async (_, n) => {
          const boundary = 'b' + randomUUID();
          const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': 5_000_000 });
          await rawRequest(proc.url, [head, multipartHead(boundary, meta), Buffer.from(pdfBytes(64 * 1024, n + 1))], { after: 'destroy' });
        }),
      );
      await expectAlive();
      await expectNothingLeft();
    });
  });

  describe('two parts with the same name', () => {
    it('are refused with 422 DOCUMENT_PART_DUPLICATE, whatever their order and size', async () => {
      for (const [first, second] of [
        [100, 100],
        [200_000, 10],
        [10, 200_000],
      ] as const) {
        const boundary = 'b' + randomUUID();
        const body =
          multipartHead(boundary, meta) +
          'a'.repeat(first) +
          `\r\n--${boundary}\r\nContent-Disposition: form-data; name="main"; filename="other.pdf"\r\nContent-Type: application/pdf\r\n\r\n` +
          'b'.repeat(second) +
          `\r\n--${boundary}--\r\n`;
        const head = requestHead('/v1/messages', { authorization: `Bearer ${apiKey}`, 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': Buffer.byteLength(body) });
        const a = await rawRequest(proc.url, [head, body]);
        expect(a.status, a.raw.slice(0, 400)).to.equal(422);
        expect(problem(a).code).to.equal('DOCUMENT_PART_DUPLICATE');
        await expectNothingLeft();
      }
      await expectAlive();
    });
  });
});

/** Paths under `dir` that process `pid` holds open (Linux /proc). */
function openFilesUnder(pid: number, dir: string): string[] {
  const out: string[] = [];
  const fdDir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = fs.readdirSync(fdDir);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const target = fs.readlinkSync(path.join(fdDir, fd));
      if (target.startsWith(dir)) out.push(target);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}
