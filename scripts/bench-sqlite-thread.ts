/**
 * What a database thread would take off the main thread, on SQLite. Before moving SQLite off
 * the main thread (a thread that owns the connection, or several HTTP processes in front of one
 * writer), this measures what each way would save and cost, with the service's own code: the
 * writes of one letter sealed at intake (message, document, proof and its RFC 4998 queue row,
 * `deposit` job, two events; the service's Repositories and prepared statements, in one
 * transaction with group commit, each commit durable before it answers) — 16 in flight, as
 * under load.
 *
 * Contenders, in turns (A B C A B C …), each on a database of its own, the main thread's
 * CPU-seconds read from /proc (task of the main thread) and the whole process's:
 *   A. the transactions on the main thread (what the service does now);
 *   B. the same code in a worker thread that owns the connection, the main thread sending each
 *      transaction's records in one message and waiting for the answer (the best case of a
 *      database thread: whole transactions cross, not statements);
 *   C. the round trips alone of a database thread that takes statements one by one (what a
 *      knex connection proxied to a thread would pay): one message each way per statement of
 *      the transaction, to a thread that answers at once, with the statement's values.
 *
 *   npm run build && node dist/scripts/bench-sqlite-thread.js
 *   (BENCH_SECONDS per figure per round, default 3; BENCH_ROUNDS, default 3)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { DocumentRecord, EvidenceRecord, MessageRecord } from '../src/domain/records.js';
import { migrateLatest, openDatabase } from '../src/store/database.js';
import { Repositories } from '../src/store/Repositories.js';
import { fmt, machine, mainThreadCpuSeconds, procCpuSeconds, rounds, seconds, settle, showSpread, spread, table } from './bench-lib.js';

const IN_FLIGHT = 16;
/** statements of the letter's transaction on SQLite, BEGIN and COMMIT included (statements-per-submission.spec.ts: 9 of its 11) */
const STATEMENTS = 9;
const LABELS = {
  a: 'A. on the main thread, as now (baseline)',
  b: 'B. in a database thread, one message per transaction',
  c: `C. round trips alone, one message per statement (${STATEMENTS} of them)`,
};
const SENDER = 'bench-sender';

interface Letter {
  message: MessageRecord;
  documents: DocumentRecord[];
  evidence: EvidenceRecord;
}

/** The records of one letter sealed at intake, as SubmissionService writes them (a 3 KB proof). */
function letter(): Letter {
  const id = randomUUID();
  const at = new Date().toISOString();
  const doc: DocumentRecord = { id: randomUUID(), messageId: id, position: 0, partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: 102_400, sha256: randomBytes(32).toString('hex'), isMain: true, blobKey: randomUUID() };
  const message: MessageRecord = {
    id,
    senderId: SENDER,
    recipientType: 'citizen',
    recipientId: '85073003328',
    subject: { en: 'Your pension', fr: 'Votre pension', nl: 'Uw pensioen' },
    senderReference: null,
    status: 'ACCEPTED',
    submittedAt: at,
    updatedAt: at,
    expiresAt: at,
    eboxMessageId: null,
    documentsPurgedAt: null,
  };
  const evidence: EvidenceRecord = { id: randomUUID(), messageId: id, seq: 1, type: 'SubmissionAcceptance', statement: '{"type":"SubmissionAcceptance"}', der: randomBytes(3000), sha256: randomBytes(32).toString('hex'), createdAt: at };
  return { message, documents: [doc], evidence };
}

/** One letter's writes, in one transaction (the intake's, SubmissionService.writeDecided). */
async function write(store: Repositories, l: Letter): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.messages.insert(l.message, l.documents);
    await tx.events.append({ messageId: l.message.id, type: 'MessageReceived', at: l.message.submittedAt, data: { senderId: SENDER, documents: [{ partName: 'main', sha256: l.documents[0]!.sha256, size: 102_400 }] } });
    await tx.evidence.insert(l.evidence);
    await tx.jobs.enqueue({ type: 'deposit', messageId: l.message.id, dedupeKey: `deposit:${l.message.id}`, maxAttempts: 10, payload: { messageId: l.message.id } });
    await tx.events.append({ messageId: l.message.id, type: 'SubmissionAcceptance', at: l.message.submittedAt, data: { evidenceId: l.evidence.id } });
  });
}

async function openStore(dir: string): Promise<Repositories> {
  const db = openDatabase({ client: 'sqlite', filename: path.join(dir, 'service.db') });
  await migrateLatest(db);
  const store = new Repositories(db);
  await store.senders.insert({ id: SENDER, name: 'Bench sender', createdAt: new Date().toISOString(), webhookUrl: null, webhookSecret: null });
  return store;
}

type Body = { kind: 'letter'; letter: Letter } | { kind: 'echo'; values: unknown[] };
type Request = Body & { n: number };

if (!isMainThread) {
  // the database thread (B), or the echo thread (C)
  const { dir } = workerData as { dir?: string };
  const store = dir ? await openStore(dir) : undefined;
  parentPort!.on('message', (r: Request) => {
    if (r.kind === 'echo') {
      parentPort!.postMessage({ n: r.n, rows: [] });
      return;
    }
    write(store!, r.letter).then(
      () => parentPort!.postMessage({ n: r.n }),
      (err: Error) => parentPort!.postMessage({ n: r.n, error: err.message }),
    );
  });
  parentPort!.postMessage({ ready: true });
} else {
  await main();
}

interface Figure {
  perSecond: number;
  /** the main thread's event loop busy (not waiting for events), µs per letter: CPU, and any wait inside a call (a disk sync) */
  busyUs: number;
  mainUs: number;
  processUs: number;
}

/** Runs `one` with IN_FLIGHT in flight for `secs`; letters/s, and CPU µs per letter of the main thread and of the process. */
async function measure(secs: number, one: () => Promise<void>): Promise<Figure> {
  for (let i = 0; i < 200; i++) await one();
  const main0 = await mainThreadCpuSeconds();
  const proc0 = await procCpuSeconds('self');
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const end = t0 + secs * 1000;
  let n = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await one();
        n++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const busy = performance.eventLoopUtilization(elu0).active / 1000;
  const main = (await mainThreadCpuSeconds()) - main0;
  const proc = (await procCpuSeconds('self')) - proc0;
  return { perSecond: n / wall, busyUs: (busy * 1e6) / n, mainUs: (main * 1e6) / n, processUs: (proc * 1e6) / n };
}

/** A worker and a function that sends it one request and waits for its answer. */
async function thread(data: { dir?: string }): Promise<{ call: (r: Body) => Promise<void>; stop: () => Promise<number> }> {
  const w = new Worker(new URL(import.meta.url), { workerData: data });
  const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  w.on('message', (m: { n: number; error?: string }) => {
    const p = pending.get(m.n)!;
    pending.delete(m.n);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve();
  });
  return {
    call: (r) =>
      new Promise<void>((resolve, reject) => {
        const n = next++;
        pending.set(n, { resolve, reject });
        w.postMessage({ ...r, n });
      }),
    stop: () => w.terminate(),
  };
}

/** The values a statement of the letter's transaction carries (about what the real ones carry: ids, hashes, a 3 KB proof once). */
function statementValues(l: Letter, i: number): unknown[] {
  if (i === 0 || i === STATEMENTS - 1) return [];
  if (i === 3) return [l.evidence.id, l.message.id, 1, l.evidence.type, l.evidence.statement, l.evidence.der, l.evidence.sha256, l.evidence.createdAt];
  return [l.message.id, l.message.senderId, l.message.recipientType, l.message.recipientId, JSON.stringify(l.message.subject), l.message.status, l.message.submittedAt, l.documents[0]!.sha256];
}

async function main(): Promise<void> {
  const secs = seconds(3);
  const n = rounds(3);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bench-sqlite-thread-'));
  console.log(`bench:sqlite-thread — ${machine()}; ${n} rounds of ${secs} s per contender, ${IN_FLIGHT} letters in flight`);
  const a = await openStore(await fs.mkdtemp(path.join(root, 'a-')));
  const b = await thread({ dir: await fs.mkdtemp(path.join(root, 'b-')) });
  const c = await thread({});
  await settle();
  const results: Record<'a' | 'b' | 'c', Figure[]> = { a: [], b: [], c: [] };
  for (let r = 0; r < n; r++) {
    results.a.push(await measure(secs, () => write(a, letter())));
    results.b.push(await measure(secs, () => b.call({ kind: 'letter', letter: letter() })));
    results.c.push(
      await measure(secs, async () => {
        const l = letter();
        for (let i = 0; i < STATEMENTS; i++) await c.call({ kind: 'echo', values: statementValues(l, i) });
      }),
    );
  }
  await b.stop();
  await c.stop();
  await a.close();
  await fs.rm(root, { recursive: true, force: true });

  const show = (fs: Figure[], k: keyof Figure) => showSpread(fs.map((f) => f[k]));
  table([
    ['letter\'s writes (one transaction, 16 in flight)', 'letters/s', 'main thread busy µs per letter', 'main thread CPU µs per letter', 'process CPU µs per letter'],
    ...(['a', 'b', 'c'] as const).map((k) => [LABELS[k], show(results[k], 'perSecond'), show(results[k], 'busyUs'), show(results[k], 'mainUs'), show(results[k], 'processUs')]),
  ]);
  const med = (fs: Figure[], k: keyof Figure) => spread(fs.map((f) => f[k])).median;
  console.log('busy: the event loop not idle (performance.eventLoopUtilization), a wait inside a call included; CPU: /proc, the main thread\'s task');
  console.log(
    `main thread per letter: B ÷ A ${fmt(med(results.b, 'mainUs') / med(results.a, 'mainUs'), 2)}, ` +
      `C ÷ A ${fmt(med(results.c, 'mainUs') / med(results.a, 'mainUs'), 2)} (C counts the crossings only, no SQL)`,
  );
}
