/**
 * Runs generated cases against the service as a real child process (SQLite on a fresh data
 * folder, or a fresh PostgreSQL database with TEST_DATABASE_URL) and checks the bar:
 *
 * - no answer is a 5xx (each listed with its seed and index, for replay);
 * - the process started before the first case never exits and answers /healthz at the end
 *   (it is never restarted: an exit is a breach);
 * - no answer carries a stack trace (`    at ` frames, `node:internal`, the project's paths);
 * - no complete request is left without an answer until the time limit (a hang);
 * - afterwards no temp file under the blob store's tmp/, no descriptor open on one;
 * - the message rows are exactly the messages 2xx answers named (so no row for a refused
 *   request, and none missing for an accepted one), their documents exactly the stored
 *   objects; the sender-submitted notification rows exactly those 2xx answers named;
 * - the service's log has no error line (a 5xx whose client was gone is one too) and no
 *   uncaught exception, unhandled rejection or fatal line.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/store/database.js';
import { Repositories } from '../../src/store/Repositories.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { freePort, kill, startServiceProcess, type ServiceProcess } from '../helpers/process.js';
import { FAST_WORKER_ENV, VALID_INSZ, VALID_INSZ_2000 } from '../helpers/service.js';
import { FAMILIES, generateCase, type Family, type FuzzCase, type FuzzContext } from './generator.js';
import { exchange, type Outcome } from './wire.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface FuzzPlan {
  seed: string;
  /** the case indices to run (usually 0…N-1) */
  indices: number[];
}

export interface FuzzOptions {
  plans: FuzzPlan[];
  /** requests in flight at once */
  concurrency?: number;
  /** the development PKI's folder (made on first start when absent) */
  certsDir: string;
  /** how long a case may wait for its answer */
  caseTimeoutMs?: number;
  /** progress lines */
  log?: (line: string) => void;
  /** print each case's request and answer (replay) */
  verbose?: boolean;
}

export interface Finding {
  seed: string;
  index: number;
  family: Family;
  title: string;
  status?: number;
  excerpt: string;
}

export interface FuzzReport {
  database: 'SQLite' | 'PostgreSQL';
  seeds: string[];
  cases: number;
  seconds: number;
  byFamily: Record<string, number>;
  byStatus: Record<string, number>;
  serverErrors: Finding[];
  stackTraces: Finding[];
  hangs: Finding[];
  /** complete requests whose connection the server closed without an answer (reported, not a breach: see silentCloses) */
  silentCloses: Finding[];
  exits: string[];
  healthy: boolean;
  tempFiles: string[];
  openTempDescriptors: string[];
  messages: { answered: number; rows: number; unexpectedRows: string[]; missingRows: string[] };
  documents: { rows: number; objects: number; orphanObjects: string[]; missingObjects: string[] };
  notifications: { answered: number; rows: number; unexpectedRows: string[]; missingRows: string[] };
  logProblems: string[];
  /** the service's error lines (5xx details, answered or not: a client may be gone), for replay */
  errorLog: string[];
  /** what broke the bar, one line each; empty when the run passed */
  breaches: string[];
}

const STACK_PATTERNS: RegExp[] = [/ {4}at /, /\n\s*at \S+ \(/, /node:internal/, /node_modules\//, /\.[cm]?[jt]s:\d+:\d+/, new RegExp(ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))];

interface Target {
  proc: ServiceProcess;
  ctx: FuzzContext;
  dataDir: string;
  store: Repositories;
  db: TestDatabase;
  port: number;
  /** ids of messages and notifications the setup created */
  messageIds: Set<string>;
  notificationIds: Set<string>;
}

/** Starts the service with a sender, a second sender, a recipient, the admin and metrics tokens, and a sealed message. */
async function startTarget(certsDir: string): Promise<Target> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-'));
  const db = await createTestDatabase(dataDir);
  const adminToken = `adm_${randomBytes(16).toString('hex')}`;
  const metricsToken = `met_${randomBytes(16).toString('hex')}`;
  const env: Record<string, string> = {
    APP_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    DEV_CERTS_DIR: certsDir,
    ADMIN_TOKEN: adminToken,
    METRICS_TOKEN: metricsToken,
    // every case shows credentials: a throttled address would turn the rest of the run into 429s
    AUTH_FAILURE_LIMIT: '0',
    NOTIFY_RATE_LIMIT_PER_MINUTE: '0',
    NOTIFY_SYNC_WAIT_MS: '200',
    SUBMIT_WAIT_MS: '500',
    MAX_DOCUMENT_BYTES: String(1024 * 1024),
    // webhooks the fuzzer registers may point at a closed loopback port, nowhere else
    WEBHOOK_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32',
    WEBHOOK_TIMEOUT_MS: '1000',
    ...FAST_WORKER_ENV,
  };
  const port = await freePort();
  const proc = await startServiceProcess(env, port);
  const url = proc.url;
  const store = new Repositories(openDatabase(loadConfig(env).database));
  try {
    const auth = (t: string) => ({ authorization: `Bearer ${t}` });
    const admin = async (p: string, body: unknown) => {
      const res = await fetch(`${url}${p}`, { method: 'POST', headers: { ...auth(adminToken), 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (res.status !== 201) throw new Error(`setup: POST ${p} answered ${res.status}: ${await res.text()}`);
      return (await res.json()) as Record<string, any>;
    };
    const main = await admin('/v1/admin/senders', { name: 'Fuzz sender' });
    const other = await admin('/v1/admin/senders', { name: 'Other sender' });
    const victim = await admin('/v1/admin/senders', { name: 'Victim sender' });
    const recipient = await admin('/v1/admin/recipients', { type: 'citizen', id: VALID_INSZ });
    await admin('/v1/admin/recipients', { type: 'citizen', id: VALID_INSZ_2000 });
    // one message, sealed and deposited, for the routes that read one
    const form = new FormData();
    form.append('metadata', JSON.stringify({ recipient: { type: 'citizen', id: VALID_INSZ }, subject: { nl: 'Fuzz' }, documents: [{ httpPartName: 'main', isMainContent: true }] }));
    form.append('main', new Blob(['%PDF-1.7\n% fuzz target\n'], { type: 'application/pdf' }), 'letter.pdf');
    const submitted = await fetch(`${url}/v1/messages`, { method: 'POST', body: form, headers: auth(main.apiKey) });
    if (submitted.status >= 300) throw new Error(`setup submission answered ${submitted.status}: ${await submitted.text()}`);
    const messageId = ((await submitted.json()) as { id: string }).id;
    const evidenceId = await poll(async () => {
      const m = (await (await fetch(`${url}/v1/messages/${messageId}`, { headers: auth(main.apiKey) })).json()) as { status: string; evidence: Array<{ id: string }> };
      return m.status === 'DEPOSITED' && m.evidence.length > 0 ? m.evidence[0]!.id : undefined;
    }, 'the setup message to be deposited');
    const eboxMessageId = await poll(async () => {
      const box = (await (await fetch(`${url}/v1/ebox/messages`, { headers: auth(recipient.token) })).json()) as { items: Array<{ id: string }> };
      return box.items[0]?.id;
    }, 'the setup message in the e-Box');
    const notification = await fetch(`${url}/v1/notifications`, {
      method: 'POST',
      headers: { ...auth(main.apiKey), 'content-type': 'application/json', prefer: 'respond-async' },
      body: JSON.stringify({ phoneNumber: '+32470123456', template: 'appointment-reminder', values: { what: 'x', date: '12/01/2027', time: '10:30' } }),
    });
    if (notification.status >= 300) throw new Error(`setup notification answered ${notification.status}: ${await notification.text()}`);
    const notificationId = ((await notification.json()) as { id: string }).id;
    const doc = await (await fetch(`${url}/openapi.json`)).json();
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const ctx: FuzzContext = {
      authority: `127.0.0.1:${port}`,
      doc,
      credentials: { sender: main.apiKey, otherSender: other.apiKey, recipient: recipient.token, admin: adminToken, metrics: metricsToken },
      ids: {
        messageId,
        evidenceId,
        eboxMessageId,
        notificationId,
        victimSenderId: victim.id,
        victimCredentialId: victim.credential.id,
        victimRecipientId: VALID_INSZ_2000,
        recipientId: VALID_INSZ,
      },
      deviceJwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! },
    };
    return { proc, ctx, dataDir, store, db, port, messageIds: new Set([messageId]), notificationIds: new Set([notificationId]) };
  } catch (err) {
    await kill(proc);
    await store.close();
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function poll<T>(f: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The case generated for (seed, index) in a context (for printing a replay). */
export function describeCase(c: FuzzCase): string {
  const bytes = Buffer.concat(c.exchange.chunks);
  const shown = bytes.subarray(0, 1500).toString('latin1').replace(/[^\x20-\x7e\r\n]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `case ${c.seed}#${c.index} [${c.family}] ${c.title}\n  after: ${c.exchange.after}${c.exchange.dropAfterMs !== undefined && c.exchange.after === 'drop' ? ` (${c.exchange.dropAfterMs} ms)` : ''}, ${bytes.length} bytes in ${c.exchange.chunks.length} write(s)\n${shown}${bytes.length > 1500 ? `\n  … ${bytes.length - 1500} more bytes` : ''}`;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 8;
  const caseTimeoutMs = options.caseTimeoutMs ?? 30_000;
  const target = await startTarget(options.certsDir);
  const { proc, ctx, store } = target;
  const exits: string[] = [];
  let stopping = false;
  proc.child.on('exit', (code, signal) => {
    if (!stopping) exits.push(`the service exited (code ${code}, signal ${signal})`);
  });

  const work: Array<{ seed: string; index: number }> = options.plans.flatMap((p) => p.indices.map((index) => ({ seed: p.seed, index })));
  const report: FuzzReport = {
    database: onPostgres ? 'PostgreSQL' : 'SQLite',
    seeds: options.plans.map((p) => p.seed),
    cases: work.length,
    seconds: 0,
    byFamily: Object.fromEntries(FAMILIES.map(([, f]) => [f, 0])),
    byStatus: {},
    serverErrors: [],
    stackTraces: [],
    hangs: [],
    silentCloses: [],
    exits,
    healthy: false,
    tempFiles: [],
    openTempDescriptors: [],
    messages: { answered: 0, rows: 0, unexpectedRows: [], missingRows: [] },
    documents: { rows: 0, objects: 0, orphanObjects: [], missingObjects: [] },
    notifications: { answered: 0, rows: 0, unexpectedRows: [], missingRows: [] },
    logProblems: [],
    errorLog: [],
    breaches: [],
  };
  const messageIds = target.messageIds;
  const notificationIds = target.notificationIds;
  const started = Date.now();
  let next = 0;
  let done = 0;

  const record = (c: FuzzCase, o: Outcome) => {
    report.byFamily[c.family] = (report.byFamily[c.family] ?? 0) + 1;
    const finding = (status: number | undefined, excerpt: string): Finding => ({ seed: c.seed, index: c.index, family: c.family, title: c.title, status, excerpt: excerpt.slice(0, 400) });
    if (o.responses.length === 0) {
      const key = o.end === 'timeout' ? 'no answer: time limit' : o.end === 'client' ? 'no answer: client dropped' : 'no answer: server closed';
      report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
    }
    for (const r of o.responses) {
      report.byStatus[String(r.status)] = (report.byStatus[String(r.status)] ?? 0) + 1;
      if (r.status >= 500) report.serverErrors.push(finding(r.status, r.body));
      const location = r.headers.location ?? '';
      if (r.status === 201 || r.status === 202) {
        const m = /^\/v1\/messages\/([0-9a-f-]{36})$/.exec(location);
        if (m) messageIds.add(m[1]!);
        const n = /^\/v1\/notifications\/([0-9a-f-]{36})$/.exec(location);
        if (n) notificationIds.add(n[1]!);
      }
    }
    const leak = STACK_PATTERNS.find((p) => p.test(o.raw));
    if (leak) report.stackTraces.push(finding(o.responses[0]?.status, o.raw.slice(Math.max(0, o.raw.search(leak) - 200))));
    if (c.answerDue && o.end === 'timeout' && o.responses.length === 0) report.hangs.push(finding(undefined, `no answer in ${caseTimeoutMs} ms`));
    if (c.answerDue && o.end === 'server' && o.responses.length === 0) report.silentCloses.push(finding(undefined, o.raw));
    if (options.verbose) log(`${describeCase(c)}\n  → ${o.responses.map((r) => `${r.status} ${r.body.slice(0, 300)}`).join('\n  → ') || `no answer (${o.end})`}`);
  };

  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= work.length) return;
      const { seed, index } = work[i]!;
      const c = generateCase(ctx, seed, index);
      const o = await exchange(target.port, c.exchange, caseTimeoutMs);
      record(c, o);
      done++;
      if (done % 1000 === 0) log(`  ${done}/${work.length} cases, ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, work.length) }, worker));
    report.seconds = Math.round((Date.now() - started) / 100) / 10;
    await checkAfter(target, report, messageIds, notificationIds);
  } finally {
    stopping = true;
    await kill(proc);
    await store.close();
    await target.db.drop();
    fs.rmSync(target.dataDir, { recursive: true, force: true });
  }
  report.breaches = breaches(report);
  return report;
}

/** The bar's checks once every case has been answered or dropped. */
async function checkAfter(target: Target, report: FuzzReport, messageIds: Set<string>, notificationIds: Set<string>): Promise<void> {
  const { proc, store, dataDir } = target;
  // the process: the one started before the first case, still running and serving
  try {
    const res = await fetch(`${proc.url}/healthz`);
    report.healthy = res.status === 200 && proc.child.exitCode === null && proc.child.signalCode === null;
  } catch {
    report.healthy = false;
  }

  // abandoned uploads end when the server notices the connection is gone: wait for it (bounded)
  const tmpDir = path.join(dataDir, 'blobs', 'tmp');
  const deadline = Date.now() + 30_000;
  for (;;) {
    report.tempFiles = fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir).map((f) => path.join(tmpDir, f)) : [];
    report.openTempDescriptors = proc.child.pid ? openFilesUnder(proc.child.pid, tmpDir) : [];
    if ((report.tempFiles.length === 0 && report.openTempDescriptors.length === 0) || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  // rows: exactly what 2xx answers named
  const messageRows = new Set((await store.db('messages').select('id')).map((r: { id: string }) => r.id));
  const unexpected = [...messageRows].filter((id) => !messageIds.has(id));
  // named with their senderReference (the generator's FUZZ-… marks the case) for the hunt
  const references = new Map(
    (unexpected.length ? await store.db('messages').whereIn('id', unexpected.slice(0, 20)).select('id', 'sender_reference') : []).map((r: { id: string; sender_reference: string | null }) => [r.id, r.sender_reference]),
  );
  report.messages = {
    answered: messageIds.size,
    rows: messageRows.size,
    unexpectedRows: unexpected.map((id) => (references.has(id) ? `${id} (senderReference ${JSON.stringify(references.get(id))})` : id)),
    missingRows: [...messageIds].filter((id) => !messageRows.has(id)),
  };
  const blobKeys = new Set((await store.db('documents').select('blob_key')).map((r: { blob_key: string }) => r.blob_key));
  const objectsDir = path.join(dataDir, 'blobs', 'objects');
  const objects = new Set<string>();
  if (fs.existsSync(objectsDir)) for (const shard of fs.readdirSync(objectsDir)) for (const f of fs.readdirSync(path.join(objectsDir, shard))) objects.add(f);
  report.documents = { rows: blobKeys.size, objects: objects.size, orphanObjects: [...objects].filter((k) => !blobKeys.has(k)), missingObjects: [...blobKeys].filter((k) => !objects.has(k)) };
  const notificationRows = new Set((await store.db('notifications').whereNull('message_id').select('id')).map((r: { id: string }) => r.id));
  report.notifications = {
    answered: notificationIds.size,
    rows: notificationRows.size,
    unexpectedRows: [...notificationRows].filter((id) => !notificationIds.has(id)),
    missingRows: [...notificationIds].filter((id) => !notificationRows.has(id)),
  };

  // the log: nothing uncaught, nothing fatal
  for (const line of proc.output().split('\n')) {
    if (/"level":50/.test(line)) report.errorLog.push(line.slice(0, 4000));
    if (/uncaught|unhandled/i.test(line) || /"level":60/.test(line) || /^\s*at /.test(line)) report.logProblems.push(line.slice(0, 300));
  }
}

function breaches(r: FuzzReport): string[] {
  const out: string[] = [];
  if (r.serverErrors.length) out.push(`${r.serverErrors.length} answer(s) 5xx`);
  if (r.exits.length) out.push(...r.exits);
  if (!r.healthy) out.push('the service does not answer /healthz at the end');
  if (r.stackTraces.length) out.push(`${r.stackTraces.length} answer(s) with a stack trace`);
  if (r.hangs.length) out.push(`${r.hangs.length} complete request(s) without an answer`);
  if (r.tempFiles.length) out.push(`${r.tempFiles.length} temp file(s) left: ${r.tempFiles.slice(0, 5).join(', ')}`);
  if (r.openTempDescriptors.length) out.push(`${r.openTempDescriptors.length} descriptor(s) open on temp files`);
  if (r.messages.unexpectedRows.length) out.push(`${r.messages.unexpectedRows.length} message row(s) no 2xx answer named: ${r.messages.unexpectedRows.slice(0, 5).join(', ')}`);
  if (r.messages.missingRows.length) out.push(`${r.messages.missingRows.length} message(s) answered 2xx without a row: ${r.messages.missingRows.slice(0, 5).join(', ')}`);
  if (r.documents.orphanObjects.length) out.push(`${r.documents.orphanObjects.length} stored object(s) without a document row`);
  if (r.documents.missingObjects.length) out.push(`${r.documents.missingObjects.length} document row(s) without their object`);
  if (r.notifications.unexpectedRows.length) out.push(`${r.notifications.unexpectedRows.length} notification row(s) no 2xx answer named`);
  if (r.notifications.missingRows.length) out.push(`${r.notifications.missingRows.length} notification(s) answered 2xx without a row`);
  if (r.errorLog.length) out.push(`${r.errorLog.length} error line(s) in the service log (a 5xx, answered or not): ${r.errorLog[0]!.slice(0, 300)}`);
  if (r.logProblems.length) out.push(`${r.logProblems.length} uncaught/fatal line(s) in the service log: ${r.logProblems[0]}`);
  return out;
}

/** The report as text: cases, by family, by status, seconds, the bar. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  lines.push(`fuzz: ${r.cases} cases, seed(s) ${r.seeds.join(', ')}, ${r.database}, ${r.seconds} s`);
  lines.push(`  by family: ${Object.entries(r.byFamily).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`  by status: ${Object.entries(r.byStatus).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
  lines.push(`  5xx: ${r.serverErrors.length}; process exits: ${r.exits.length}; /healthz at the end: ${r.healthy ? 'ok' : 'FAILED'}`);
  lines.push(`  stack traces in answers: ${r.stackTraces.length}; complete requests unanswered: ${r.hangs.length}`);
  lines.push(`  temp files left: ${r.tempFiles.length}; descriptors on temp files: ${r.openTempDescriptors.length}`);
  lines.push(`  messages: ${r.messages.rows} rows for ${r.messages.answered} answered 2xx (unexpected ${r.messages.unexpectedRows.length}, missing ${r.messages.missingRows.length}); documents: ${r.documents.rows} rows, ${r.documents.objects} objects`);
  lines.push(`  notifications: ${r.notifications.rows} rows for ${r.notifications.answered} answered 2xx; error lines in the service log: ${r.errorLog.length}; uncaught/fatal: ${r.logProblems.length}`);
  lines.push(`  complete requests closed without an answer: ${r.silentCloses.length}`);
  for (const f of [...r.serverErrors, ...r.stackTraces, ...r.hangs, ...r.silentCloses].slice(0, 50)) {
    lines.push(`  ! ${f.status ?? '---'} case ${f.seed}#${f.index} [${f.family}] ${f.title}\n      ${JSON.stringify(f.excerpt.slice(0, 200))}\n      replay: npm run test:fuzz -- --seed ${f.seed} --case ${f.index}`);
  }
  for (const l of r.errorLog.slice(0, 20)) lines.push(`  service log: ${l.slice(0, 1200)}`);
  lines.push(r.breaches.length ? `  BAR BROKEN:\n${r.breaches.map((b) => `    - ${b}`).join('\n')}` : '  bar: met');
  return lines.join('\n');
}

/** Paths under `dir` that process `pid` holds open (Linux /proc). */
function openFilesUnder(pid: number, dir: string): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const t = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      if (t.startsWith(dir)) out.push(t);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}
