/**
 * Starts the real service (runtime + express app on a loopback port) for a test,
 * on a fresh data directory and database, with the development PKI (generated once
 * per algorithm and test run, then shared).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { createHttpServer, listen, type HttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, devPkiDir, type Runtime } from '../../src/app/runtime.js';
import { createSender } from '../../src/access/senders.js';
import { createTestDatabase, type TestDatabase } from './database.js';

import { TEST_CERTS_DIR } from './paths.js';

export interface TestService {
  url: string;
  rt: Runtime;
  config: Config;
  dataDir: string;
  /** the database it runs on (dropped by close unless `keepData`) */
  database: TestDatabase;
  /** the dev root certificate (PEM file) the proofs chain to */
  rootPem: string;
  env: Record<string, string>;
  newSender(name?: string): Promise<{ id: string; apiKey: string }>;
  /** registers a recipient in the built-in e-Box; returns its token */
  newRecipient(type: 'citizen' | 'enterprise', id: string, activated?: boolean): Promise<string>;
  close(): Promise<void>;
}

/** Test defaults: a fast worker loop and short backoffs, so lifecycles complete in milliseconds. */
export const FAST_WORKER_ENV: Record<string, string> = {
  WORKER_POLL_MS: '50',
  JOB_BACKOFF_BASE_MS: '20',
  JOB_BACKOFF_MAX_MS: '200',
};

export interface TestServiceOptions {
  worker?: boolean;
  /** receives the service's log lines (JSON), at level `logLevel` (default info) */
  log?: string[];
  logLevel?: Config['logLevel'];
  /** the service reaches its database through this URL instead (a proxy the test can cut) */
  databaseVia?: (url: string) => string;
  /** close() stops the service but leaves its data directory and database (for a restart on them) */
  keepData?: boolean;
  /** start on the data directory and database of an earlier service (started with `keepData`) */
  reuse?: { dataDir: string; database: TestDatabase };
}

export async function startTestService(env: Record<string, string> = {}, options: TestServiceOptions = {}): Promise<TestService> {
  const dataDir = options.reuse?.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rm-test-'));
  const db = options.reuse?.database ?? (await createTestDatabase(dataDir));
  const dropData = async () => {
    if (options.keepData) return;
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const fullEnv: Record<string, string> = {
    APP_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: options.databaseVia ? options.databaseVia(db.url) : db.url,
    DEV_CERTS_DIR: TEST_CERTS_DIR,
    PORT: '0',
    ...FAST_WORKER_ENV,
    ...env,
  };
  const config = loadConfig(fullEnv);
  const lines = options.log;
  const log = lines
    ? createLogger(options.logLevel ?? 'info', { write: (line: string) => void lines.push(line) })
    : createLogger(process.env.TEST_LOG_LEVEL ? (process.env.TEST_LOG_LEVEL as Config['logLevel']) : 'silent');
  const rt = await createRuntime(config, log);
  if (options.worker !== false) rt.startWorker();
  let server: HttpServer;
  let port: number;
  try {
    server = await createHttpServer(createApp(rt, log), config.http);
    port = await listen(server, 0, '127.0.0.1');
  } catch (err) {
    await rt.close();
    await dropData();
    throw err;
  }
  // the pages' sign-in comes back to the address the service listens on (PUBLIC_URL unset)
  rt.signin?.setPublicUrl(`${config.http.tls ? 'https' : 'http'}://127.0.0.1:${port}`);
  return {
    url: `${config.http.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    rt,
    config,
    dataDir,
    database: db,
    env: fullEnv,
    rootPem: path.join(devPkiDir(config), 'root.pem'),
    async newSender(name = 'Test sender') {
      const { sender, apiKey } = await createSender(rt.store, name);
      return { id: sender.id, apiKey };
    },
    async newRecipient(type, id, activated = true) {
      return (await rt.recipients.register(type, id, { activated })).token;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rt.close();
      await dropData();
    },
  };
}

export interface Part {
  name: string;
  content: Uint8Array | string;
  fileName?: string;
  type?: string;
}

export const VALID_INSZ = '85073003328';
export const VALID_INSZ_2000 = '17073003384';
export const VALID_KBO = '0403019261';

export function metadata(overrides: Record<string, unknown> = {}, parts: Array<{ httpPartName: string; isMainContent?: boolean }> = [{ httpPartName: 'main', isMainContent: true }]) {
  return {
    recipient: { type: 'citizen', id: VALID_INSZ },
    subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
    senderReference: 'REF-2026-0001',
    documents: parts,
    ...overrides,
  };
}

/** POSTs a multipart submission with fetch/FormData. */
export async function submit(svc: { url: string }, apiKey: string | undefined, meta: unknown, parts: Part[], headers: Record<string, string> = {}): Promise<Response> {
  const form = new FormData();
  if (meta !== undefined) form.append('metadata', typeof meta === 'string' ? meta : JSON.stringify(meta));
  for (const p of parts) {
    form.append(p.name, new Blob([typeof p.content === 'string' ? p.content : new Uint8Array(p.content)], { type: p.type ?? 'application/pdf' }), p.fileName ?? `${p.name}.pdf`);
  }
  return fetch(`${svc.url}/v1/messages`, {
    method: 'POST',
    body: form,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...headers },
  });
}

export function pdfBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const head = new TextEncoder().encode('%PDF-1.7\n');
  out.set(head.subarray(0, Math.min(head.length, size)));
  let x = seed >>> 0 || 1;
  for (let i = head.length; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Files left under the blob store: committed objects, and temp files (the blob store's, and uploaded batch ZIPs' under archives/). */
export function blobFiles(dataDir: string): { objects: string[]; temp: string[] } {
  const root = path.join(dataDir, 'blobs');
  const objects: string[] = [];
  const objDir = path.join(root, 'objects');
  if (fs.existsSync(objDir)) {
    for (const shard of fs.readdirSync(objDir)) for (const f of fs.readdirSync(path.join(objDir, shard))) objects.push(path.join(objDir, shard, f));
  }
  const tmpDir = path.join(root, 'tmp');
  const temp: string[] = [];
  for (const dir of [tmpDir, path.join(dataDir, 'archives', 'tmp')]) if (fs.existsSync(dir)) temp.push(...fs.readdirSync(dir).map((f) => path.join(dir, f)));
  return { objects, temp };
}

/** The message's first proof (its SubmissionAcceptance), DER, as the sender downloads it; throws unless it is served (200). */
export async function firstProof(svc: { url: string }, apiKey: string, id: string): Promise<Uint8Array> {
  const auth = { authorization: `Bearer ${apiKey}` };
  const list = await (await fetch(`${svc.url}/v1/messages/${id}/evidence`, { headers: auth })).json();
  const res = await fetch(svc.url + list.items[0].href, { headers: auth });
  if (res.status !== 200) throw new Error(`the first proof of message ${id} answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Polls GET /v1/messages/:id until `until` holds (bounded). */
export async function waitForMessage(svc: { url: string }, apiKey: string, id: string, until: (m: any) => boolean, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    const res = await fetch(`${svc.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } });
    last = await res.json();
    if (until(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`message ${id} did not reach the expected state; last: ${JSON.stringify(last?.status)} ${JSON.stringify(last?.evidence?.map((e: any) => e.type))}`);
}
