/**
 * The one checker of a fault campaign: from the database and the blob store alone (plus
 * the records a simulated provider kept), it proves for every submission the service
 * acknowledged that
 *
 *   - there is one message per Idempotency-Key, the one the client was answered, and no
 *     message the clients did not ask for (duplicated otherwise);
 *   - the message has its rows: its documents with the sizes and SHA-256 the client sent,
 *     its events (one MessageReceived, one event per proof naming that proof), in an event
 *     log whose hash chain holds from the first row to the last (`verifyEventChain`);
 *   - its document bytes are on disk and hash to the digest its proofs' statements name;
 *   - its evidence chain is complete for its final state — SubmissionAcceptance, then
 *     ContentConsignment (then NotificationForAcceptance when recipients are notified) —
 *     each proof enveloping the statement stored for it, naming the message and its
 *     documents, chaining to the previous proof (PreviousEvidenceDigest = its SHA-256) and
 *     valid for the project's own verifier (`verifyCadesT`, TOTAL_PASSED against the root);
 *   - its deposit happened once: one mailbox row (built-in e-Box) or one publication at the
 *     remote e-Box with these bytes; its notice was sent once per channel;
 *
 * (any failure makes the message count as lost) and, for the whole store, that no job is
 * stuck (see checkJobs) and that no object lacks its document row and no temp file is left
 * (orphans).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { verifyCadesT } from '../../src/crypto/index.js';
import { verifyEventChain, type ChainedEvent } from '../../src/domain/EventChain.js';
import { ETSI_EVENT_BASE, type EvidenceStatement, type EvidenceType } from '../../src/domain/EvidenceStatement.js';
import type { SimulatorSnapshot } from '../../dev/ebox-simulator/SimulatorState.js';
import type { SimulatedPush } from '../../dev/notification-simulators/GovAppSimulator.js';
import type { SimulatedSms } from '../../dev/notification-simulators/SmsSimulator.js';
import type { Repositories } from '../../src/store/Repositories.js';
import { shardOf } from '../../src/store/FsBlobStore.js';
import type { Letter } from './load.js';

export interface CheckOptions {
  store: Repositories;
  blobDir: string;
  senderId: string;
  /** every letter the clients sent; those with an id were acknowledged */
  letters: Letter[];
  /** DER root certificates the proofs must chain to */
  trustAnchors: Uint8Array[];
  /** the state every acknowledged message must have reached */
  finalStatus: 'DEPOSITED';
  /** whether each message's recipient is notified (then a NotificationForAcceptance proof follows the consignment) */
  notices: boolean;
  /** what the remote e-Box stored, when the service delivers to one (else the built-in e-Box's mailbox is checked) */
  remoteEbox?: SimulatorSnapshot;
  /** what the notification providers received */
  providers?: { pushes: SimulatedPush[]; sms: SimulatedSms[] };
}

export interface CheckResult {
  /** acknowledged messages missing something (rows, bytes, proofs, deposit, notice) */
  lost: number;
  /** messages, deposits or notices beyond one per submission */
  duplicated: number;
  /** objects without their row, temp files left behind */
  orphans: number;
  problems: string[];
}

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const MAX_PROBLEMS_PER_KIND = 8;

export async function checkCampaign(o: CheckOptions): Promise<CheckResult> {
  const problems = new Problems();
  const acknowledged = o.letters.filter((l) => l.id !== undefined);
  const lostIds = new Set<string>();
  let duplicated = 0;
  const lose = (l: Letter, what: string) => {
    lostIds.add(l.key);
    problems.add('lost', `letter ${l.n} (message ${l.id}): ${what}`);
  };

  // ── one message per Idempotency-Key, and nothing else ───────────────────────
  const db = o.store.db;
  const messages: Array<{ id: string; status: string }> = await db('messages').where({ sender_id: o.senderId }).select('id', 'status');
  const keys: Array<{ key: string; message_id: string }> = await db('idempotency_keys').where({ sender_id: o.senderId }).select('key', 'message_id');
  const byKey = new Map(keys.map((k) => [k.key, k.message_id]));
  const statusOf = new Map(messages.map((m) => [m.id, m.status]));
  const answered = new Set(acknowledged.map((l) => l.id!));
  if (answered.size !== acknowledged.length) {
    duplicated += acknowledged.length - answered.size;
    problems.add('duplicated', `${acknowledged.length - answered.size} message ids were answered for more than one letter`);
  }
  const asked = new Set(o.letters.map((l) => l.key));
  for (const m of messages) {
    if (answered.has(m.id)) continue;
    // a message for a letter never acknowledged (given up) is not a duplicate; any other is
    const key = keys.find((k) => k.message_id === m.id)?.key;
    if (key !== undefined && asked.has(key) && !o.letters.find((l) => l.key === key)?.id) continue;
    duplicated++;
    problems.add('duplicated', `message ${m.id} (${m.status}) answers no letter${key ? ` (its key ${key} was answered with ${byKey.get(key)})` : ' and has no Idempotency-Key'}`);
  }

  // ── the event log: one chain from the first row to the last ─────────────────
  const events: ChainedEvent[] = [];
  for (let from = 1; ; ) {
    const page = await o.store.events.range(from, Number.MAX_SAFE_INTEGER, 10_000);
    events.push(...page);
    if (page.length < 10_000) break;
    from = page[page.length - 1]!.seq + 1;
  }
  const chainBreak = verifyEventChain(events);
  if (chainBreak) problems.add('lost', `the event log's hash chain is broken: ${chainBreak.kind} at row ${chainBreak.seq}: ${chainBreak.detail}`);
  const eventsOf = new Map<string, typeof events>();
  for (const e of events) {
    const list = eventsOf.get(e.messageId);
    if (list) list.push(e);
    else eventsOf.set(e.messageId, [e]);
  }

  // ── deposits and notices, as the providers saw them ─────────────────────────
  const mailbox = o.remoteEbox ? undefined : await mailboxCounts(o.store);
  const publications = new Map<string, SimulatorSnapshot['publications']>();
  for (const p of o.remoteEbox?.publications ?? []) {
    const list = publications.get(p.idempotencyKey);
    if (list) list.push(p);
    else publications.set(p.idempotencyKey, [p]);
  }

  const expected: EvidenceType[] = ['SubmissionAcceptance', 'ContentConsignment', ...(o.notices ? (['NotificationForAcceptance'] as const) : [])];
  for (const l of acknowledged) {
    const id = l.id!;
    if (byKey.get(l.key) !== id) {
      lose(l, `its Idempotency-Key names ${byKey.get(l.key) ?? 'no message'}`);
      continue;
    }
    const status = statusOf.get(id);
    if (status !== o.finalStatus) {
      lose(l, `status ${status ?? '(no row)'} instead of ${o.finalStatus}`);
      continue;
    }

    // documents: rows as sent, bytes on disk
    const docs = await o.store.messages.documents(id);
    const sent = l.docs.map((d) => `${d.part}:${d.size}:${d.sha256}`);
    const stored = docs.map((d) => `${d.partName}:${d.size}:${d.sha256}`);
    if (sent.join() !== stored.join()) {
      lose(l, `documents ${JSON.stringify(stored)} instead of ${JSON.stringify(sent)}`);
      continue;
    }
    let bytesOk = true;
    for (const d of docs) {
      const file = path.join(o.blobDir, 'objects', shardOf(d.blobKey), d.blobKey);
      let digest: string | undefined;
      try {
        digest = sha256(fs.readFileSync(file));
      } catch {
        digest = undefined;
      }
      if (digest !== d.sha256) {
        bytesOk = false;
        lose(l, digest ? `document ${d.partName}: bytes on disk hash to ${digest}, not ${d.sha256}` : `document ${d.partName}: no bytes on disk`);
        break;
      }
    }
    if (!bytesOk) continue;

    // evidence: complete, chained, valid, about this message and these documents
    const evidence = await o.store.evidence.listForMessage(id);
    const types = evidence.map((e) => e.type);
    if (types.join() !== expected.join()) {
      if (types.length > expected.length && expected.every((t, i) => types[i] === t)) duplicated++;
      lose(l, `proofs ${JSON.stringify(types)} instead of ${JSON.stringify(expected)}`);
      continue;
    }
    let previous: string | null = null;
    let proofsOk = true;
    for (const [i, e] of evidence.entries()) {
      const statement = JSON.parse(e.statement) as EvidenceStatement;
      const fail = (what: string) => {
        proofsOk = false;
        lose(l, `proof ${i + 1} (${e.type}): ${what}`);
      };
      if (e.seq !== i + 1) fail(`seq ${e.seq}`);
      else if (sha256(e.der) !== e.sha256) fail('its stored SHA-256 is not that of its DER');
      else if ((statement.PreviousEvidenceDigest?.DigestValue ?? null) !== previous) fail(`PreviousEvidenceDigest ${statement.PreviousEvidenceDigest?.DigestValue ?? null}, the previous proof is ${previous}`);
      else if (statement.MessageIdentifier !== id || statement.ERDSEventId !== ETSI_EVENT_BASE + e.type) fail('its statement names another message or event');
      else if (statement.Documents.map((d) => d.DigestValue).join() !== docs.map((d) => d.sha256).join()) fail("its statement's document digests are not the documents'");
      else {
        const report = await verifyCadesT(e.der, { trustAnchors: o.trustAnchors });
        if (report.indication !== 'TOTAL_PASSED') fail(`${report.indication}: ${report.checks.filter((c) => !c.passed).map((c) => `${c.name} ${c.detail}`).join('; ')}`);
        else if (new TextDecoder().decode(report.content) !== e.statement) fail('the proof envelops another statement than the one stored');
      }
      if (!proofsOk) break;
      previous = e.sha256;
    }
    if (!proofsOk) continue;

    // events: one MessageReceived, one event per proof naming it
    const own = eventsOf.get(id) ?? [];
    const received = own.filter((e) => e.type === 'MessageReceived').length;
    if (received !== 1) {
      lose(l, `${received} MessageReceived events`);
      continue;
    }
    const missingEvent = evidence.find((e) => own.filter((x) => x.type === e.type && x.data.evidenceId === e.id && x.data.evidenceSha256 === e.sha256).length !== 1);
    if (missingEvent) {
      lose(l, `no single event records its ${missingEvent.type} proof`);
      continue;
    }
    if (own.filter((x) => (expected as string[]).includes(x.type)).length !== expected.length) {
      duplicated++;
      problems.add('duplicated', `letter ${l.n} (message ${id}): proof events ${JSON.stringify(own.map((x) => x.type))}`);
    }

    // the deposit, once
    if (mailbox) {
      const n = mailbox.get(id) ?? 0;
      if (n === 0) lose(l, 'not in the recipient’s e-Box');
      else if (n > 1) {
        duplicated += n - 1;
        problems.add('duplicated', `letter ${l.n} (message ${id}): deposited ${n} times`);
      }
    } else {
      const pubs = publications.get(id) ?? [];
      if (pubs.length === 0) lose(l, 'no publication at the remote e-Box');
      else if (pubs.length > 1 || pubs[0]!.storedCount !== 1) {
        duplicated += Math.max(pubs.length, pubs[0]!.storedCount) - 1;
        problems.add('duplicated', `letter ${l.n} (message ${id}): ${pubs.length} publications at the remote e-Box`);
      } else if (pubs[0]!.attachments.map((a) => a.sha256).join() !== docs.map((d) => d.sha256).join()) {
        lose(l, 'the remote e-Box received other bytes');
      }
    }

    // the notice: once per channel at the providers
    if (o.notices && o.providers) {
      const notifications = await o.store.notifications.findByMessage(id);
      if (notifications.length !== 1) {
        if (notifications.length > 1) duplicated += notifications.length - 1;
        lose(l, `${notifications.length} notifications`);
        continue;
      }
      const n = notifications[0]!;
      const attempts = new Set((await o.store.notifications.attempts(n.id)).map((a) => a.id));
      const pushes = o.providers.pushes.filter((p) => p.messageId === n.id);
      const sms = o.providers.sms.filter((s) => attempts.has(s.reference));
      if (!['SENT', 'DELIVERED', 'READ'].includes(n.status)) lose(l, `notification ${n.status}`);
      else if (pushes.length + sms.length === 0) lose(l, 'no provider received the notice');
      if (pushes.length > 1 || sms.length > 1) {
        duplicated += Math.max(pushes.length, 1) + Math.max(sms.length, 1) - 2;
        problems.add('duplicated', `letter ${l.n} (message ${id}): ${pushes.length} pushes and ${sms.length} SMS for one notice`);
      }
    }
  }

  // ── the blob store: nothing without a row, nothing half-written ─────────────
  const documentKeys = new Set((await db('documents').select('blob_key')).map((d: { blob_key: string }) => d.blob_key));
  let orphans = 0;
  for (const key of objectKeys(o.blobDir)) {
    if (documentKeys.has(key)) continue;
    orphans++;
    problems.add('orphans', `object ${key} has no document row`);
  }
  const tmpDir = path.join(o.blobDir, 'tmp');
  for (const f of fs.existsSync(tmpDir) ? fs.readdirSync(tmpDir) : []) {
    orphans++;
    problems.add('orphans', `temp file ${f} left behind`);
  }

  const lost = lostIds.size + (chainBreak ? 1 : 0);
  return { lost, duplicated, orphans, problems: problems.list() };
}

export interface JobCheck {
  stuck: number;
  problems: string[];
}

/**
 * No job stuck: called once the backlog has drained, with the service still running
 * (`stopped: false`: no job of a message open, none `running` under a worker that is gone,
 * none due for long and not taken, none dead — every fault here is one the service must
 * ride out), and again once every process was stopped gracefully (`stopped: true`: nothing
 * `running` at all, a stop hands back what it holds).
 */
export async function checkJobs(store: Repositories, o: { stopped: boolean; workerAlive: (workerId: string) => boolean; overdueMs?: number }): Promise<JobCheck> {
  const problems = new Problems();
  let stuck = 0;
  const jobs: Array<{ id: number; type: string; message_id: string | null; status: string; run_at: string; locked_by: string | null; last_error: string | null; attempts: number }> = await store
    .db('jobs')
    .whereIn('status', ['pending', 'running', 'dead'])
    .select('id', 'type', 'message_id', 'status', 'run_at', 'locked_by', 'last_error', 'attempts');
  const overdue = new Date(Date.now() - (o.overdueMs ?? 30_000)).toISOString();
  const now = new Date().toISOString();
  for (const j of jobs) {
    // a wait the service planned (never tried, its time not come: docs/jobs.md) is neither backlog nor stuck
    if (j.status === 'pending' && j.attempts === 0 && j.run_at > now) continue;
    const what = `job ${j.id} ${j.type}${j.message_id ? ` of message ${j.message_id}` : ''} (attempts ${j.attempts}${j.last_error ? `, last error: ${j.last_error.slice(0, 160)}` : ''})`;
    if (j.status === 'dead') {
      stuck++;
      problems.add('stuck', `${what} is dead`);
    } else if (j.status === 'running' && (o.stopped || !j.locked_by || !o.workerAlive(j.locked_by))) {
      stuck++;
      problems.add('stuck', `${what} is running under ${o.stopped ? 'a stopped' : 'a gone'} worker ${j.locked_by}`);
    } else if (j.message_id && !o.stopped) {
      stuck++;
      problems.add('stuck', `${what} is still ${j.status} after the drain`);
    } else if (j.status === 'pending' && j.run_at < overdue) {
      stuck++;
      problems.add('stuck', `${what} has been due since ${j.run_at} and nobody took it`);
    }
  }
  return { stuck, problems: problems.list() };
}

/** How many mailbox rows (deposits into the built-in e-Box) each message has. */
async function mailboxCounts(store: Repositories): Promise<Map<string, number>> {
  const rows: Array<{ deposit_id: string; n: number | string }> = await store.db('mailbox').select('deposit_id').count({ n: '*' }).groupBy('deposit_id');
  return new Map(rows.map((r) => [r.deposit_id, Number(r.n)]));
}

function objectKeys(blobDir: string): string[] {
  const dir = path.join(blobDir, 'objects');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((shard) => fs.readdirSync(path.join(dir, shard)));
}

/** Problems by kind, a few of each (the count is in the table). */
class Problems {
  private readonly byKind = new Map<string, { shown: string[]; more: number }>();

  add(kind: string, text: string): void {
    const k = this.byKind.get(kind) ?? { shown: [], more: 0 };
    if (k.shown.length < MAX_PROBLEMS_PER_KIND) k.shown.push(text);
    else k.more++;
    this.byKind.set(kind, k);
  }

  list(): string[] {
    return [...this.byKind.entries()].flatMap(([kind, k]) => [...k.shown.map((t) => `${kind}: ${t}`), ...(k.more ? [`${kind}: … and ${k.more} more`] : [])]);
  }
}
