/**
 * Evidence records in the running service (docs/evidence-records.md, "In the service"): every
 * proof and checkpoint enters a hash tree within RECORD_INTERVAL_MS, one time-stamp per tree;
 * records are served to the sender and the recipient beside the proofs, written into the
 * audit bundle beside each proof and checkpoint, and renewed unattended before the TSA
 * certificate expires — verified past that expiry. Runs on SQLite, and on PostgreSQL with
 * TEST_DATABASE_URL.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { openStore } from '../../src/app/store.js';
import { loadConfig } from '../../src/config.js';
import { createDevPki, derToPem, LocalTimeStamper, parseTimeStampToken, TimeStampAuthority, verifyEvidenceRecord, type DevPki } from '../../src/crypto/index.js';
import { parseEvidenceRecord } from '../../src/crypto/EvidenceRecord.js';
import { checkpointHead } from '../../src/registered-mail/maintenance.js';
import { EvidenceRecordService } from '../../src/registered-mail/records.js';
import { runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { startRecordTsa, type RecordTsa } from '../helpers/record-tsa.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const HOUR = 3_600_000;
const silent = pino({ level: 'silent' });

/** A development PKI whose TSA certificate expires `hours` from now (leaf certificates are valid ten years from their start). */
function expiringPki(hours: number): Promise<DevPki> {
  const start = new Date();
  start.setUTCFullYear(start.getUTCFullYear() - 10);
  return createDevPki('ECDSA-P256', { now: new Date(start.getTime() + hours * HOUR), crlUrl: null });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function get(svc: TestService, url: string, token: string): Promise<Response> {
  return fetch(`${svc.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
}

async function sendAndDeposit(svc: TestService, apiKey: string, seed: number): Promise<string> {
  const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(3000, seed) }]);
  expect(res.status).to.be.oneOf([201, 202]);
  const { id } = await res.json();
  await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
  return id;
}

/** The proofs of a message once no new one has come for a while (notification proofs come later). */
async function settledProofs(svc: TestService, apiKey: string, id: string): Promise<{ id: string; seq: number; type: string; der: Uint8Array }[]> {
  let count = -1;
  for (let i = 0; i < 40; i++) {
    const list = (await (await get(svc, `/v1/messages/${id}/evidence`, apiKey)).json()).items as { id: string }[];
    if (list.length === count && count > 0) break;
    count = list.length;
    await sleep(150);
  }
  const rows = await svc.rt.store.evidence.listForMessage(id);
  return rows.map((e) => ({ id: e.id, seq: e.seq, type: e.type, der: e.der }));
}

describe(`evidence records in the service (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);

  describe('trees every period, records served, exported and renewed', () => {
    let svc: TestService;
    let tsa: RecordTsa;
    let first: DevPki;
    let second: DevPki;
    const log: string[] = [];
    let sender: { id: string; apiKey: string };
    let messageId: string;
    let recipientToken: string;
    let proofs: { id: string; seq: number; type: string; der: Uint8Array }[];
    const records = new Map<string, Uint8Array>();

    before(async () => {
      first = await expiringPki(3);
      second = await createDevPki('ECDSA-P256', { crlUrl: null });
      tsa = await startRecordTsa(first.tsa);
      svc = await startTestService(
        { TSA_URL: tsa.url, RECORD_INTERVAL_MS: '200', RECORD_RENEW_INTERVAL_MS: '200', CHECKPOINT_INTERVAL_MS: '500' },
        { log, logLevel: 'warn' },
      );
      recipientToken = await svc.newRecipient('citizen', VALID_INSZ);
      sender = await svc.newSender('Records sender');
      messageId = await sendAndDeposit(svc, sender.apiKey, 11);
      proofs = await settledProofs(svc, sender.apiKey, messageId);
    });
    after(async () => {
      await svc?.close();
      await tsa?.close();
    });

    it("gives every proof its record within the period, which verifies for that proof's bytes and for no other", async () => {
      let checkedOthers = 0;
      expect(proofs.length).to.be.at.least(2);
      for (const p of proofs) {
        const res = await until(`the record of ${p.type}`, async () => {
          const r = await get(svc, `/v1/messages/${messageId}/evidence/${p.id}/record`, sender.apiKey);
          return r.status === 200 ? r : (expect(r.status).to.equal(404), undefined);
        }, 10_000);
        expect(res.headers.get('content-type')).to.equal('application/octet-stream');
        expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="${p.seq}-${p.type}.ers"`);
        const record = new Uint8Array(await res.arrayBuffer());
        records.set(p.id, record);
        // the proof exactly as served
        const served = new Uint8Array(await (await get(svc, `/v1/messages/${messageId}/evidence/${p.id}`, sender.apiKey)).arrayBuffer());
        expect(hex(served)).to.equal(hex(p.der));
        const ok = await verifyEvidenceRecord(record, { data: served }, { trustAnchors: [first.root.certificate] });
        expect(ok.valid, JSON.stringify(ok.checks)).to.equal(true);
      }
      // another proof: any but the leaf's sibling, whose digest the record holds (docs/evidence-records.md)
      for (const p of proofs) {
        const sibling = parseEvidenceRecord(records.get(p.id)!).chains[0]![0]!.lists?.[0]?.map(hex) ?? [];
        for (const other of proofs.filter((o) => o !== p && !sibling.includes(sha256hex(o.der)))) {
          const wrong = await verifyEvidenceRecord(records.get(p.id)!, { data: other.der }, { trustAnchors: [first.root.certificate] });
          expect(wrong).to.include({ valid: false, failedCheck: 'LEAF_DIGEST' });
          checkedOthers++;
        }
      }
      // three proofs or more: at most one pair of them are siblings
      if (proofs.length >= 3) expect(checkedOthers).to.be.at.least(1);
      const random = await verifyEvidenceRecord(records.get(proofs[0]!.id)!, { data: randomBytes(100) }, { trustAnchors: [first.root.certificate] });
      expect(random).to.include({ valid: false, failedCheck: 'LEAF_DIGEST' });
    });

    it('asks one time-stamp per tree, over its root, and puts the checkpoints in the same trees', async () => {
      const db = svc.rt.store.db;
      await until('a checkpoint in a tree', async () => (await db('record_leaves').where({ kind: 'checkpoint' }).first()) as unknown);
      const trees = await db('record_trees').select('id', 'root', 'leaf_count');
      const firstTokens = await db('record_tokens').where({ position: 0 }).select('tree_id', 'token');
      const leaves = await db('record_leaves').select('tree_id', 'kind', 'subject_id', 'digest');
      expect(firstTokens.length).to.be.at.most(trees.length);
      for (const t of firstTokens) {
        const tree = trees.find((x: { id: string }) => x.id === t.tree_id)!;
        expect(hex(parseTimeStampToken(new Uint8Array(t.token)).messageImprint.hashedMessage)).to.equal(tree.root);
        // the TSA was asked for this root once
        expect(tsa.imprints.filter((i) => i === tree.root), `root of tree ${tree.id}`).to.have.length(1);
        expect(leaves.filter((l: { tree_id: string }) => l.tree_id === tree.id)).to.have.length(Number(tree.leaf_count));
      }
      for (const p of proofs) {
        const leaf = leaves.filter((l: { kind: string; subject_id: string }) => l.kind === 'evidence' && l.subject_id === p.id);
        expect(leaf).to.have.length(1);
        expect(leaf[0].digest).to.equal(sha256hex(p.der));
      }
      // a checkpoint's leaf is the SHA-256 of its token, and its record verifies for the token
      const c = await svc.rt.store.checkpoints.latest();
      const cRecord = await until('the latest checkpoint in a tree', () => svc.rt.records.record('checkpoint', String(c!.id)));
      const report = await verifyEvidenceRecord(cRecord, { data: c!.token }, { trustAnchors: [first.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
    });

    it('serves the same record to the recipient, and a 404 like for proofs to another sender', async () => {
      const mailbox = (await (await get(svc, '/v1/ebox/messages', recipientToken)).json()).items as { id: string }[];
      expect(mailbox.length).to.be.at.least(1);
      const p = proofs[0]!;
      const res = await get(svc, `/v1/ebox/messages/${mailbox[0]!.id}/evidence/${p.id}/record`, recipientToken);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-disposition')).to.equal(`attachment; filename="${p.seq}-${p.type}.ers"`);
      expect(hex(new Uint8Array(await res.arrayBuffer()))).to.equal(hex(await svc.rt.records.evidenceRecord((await svc.rt.store.evidence.find(messageId, p.id))!)));

      const other = await svc.newSender('Other sender');
      const theirs = await get(svc, `/v1/messages/${messageId}/evidence/${p.id}/record`, other.apiKey);
      const proof = await get(svc, `/v1/messages/${messageId}/evidence/${p.id}`, other.apiKey);
      expect(theirs.status).to.equal(404);
      expect(proof.status).to.equal(404);
      expect(theirs.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect((await theirs.json()).code).to.equal((await proof.json()).code);
      expect((await get(svc, `/v1/messages/${messageId}/evidence/${randomUUID()}/record`, sender.apiKey)).status).to.equal(404);
    });

    it('writes each record beside its proof and checkpoint in the audit bundle (export CLI)', async () => {
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-ers-export-'));
      try {
        const out = path.join(work, 'bundle');
        const from = new Date(Date.now() - HOUR).toISOString();
        const to = new Date(Date.now() + HOUR).toISOString();
        const r = await runCli('export', ['--sender', sender.id, '--from', from, '--to', to, '--out', out, '--json'], { env: svc.env });
        expect(r.code, r.stderr).to.equal(0);
        const result = JSON.parse(r.stdout);
        expect(result.recordsPending, r.stderr).to.equal(0);
        const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
        expect(manifest.proofs).to.have.length(proofs.length);
        for (const mp of manifest.proofs) {
          expect(mp.record).to.equal(mp.file.replace(/\.p7s$/, '.ers'));
          expect(mp.record).to.equal(`proofs/${messageId}/${mp.seq}-${mp.type}.ers`);
          const record = new Uint8Array(fs.readFileSync(path.join(out, mp.record)));
          const proof = new Uint8Array(fs.readFileSync(path.join(out, mp.file)));
          const report = await verifyEvidenceRecord(record, { data: proof }, { trustAnchors: [first.root.certificate] });
          expect(report.valid, `${mp.record}: ${JSON.stringify(report.checks)}`).to.equal(true);
        }
        const checkpoints = JSON.parse(fs.readFileSync(path.join(out, 'log', 'checkpoints.json'), 'utf8'));
        expect(checkpoints.length).to.be.at.least(1);
        for (const c of checkpoints) {
          expect(c.record).to.equal(`log/checkpoints/${c.eventSeq}.ers`);
          const record = new Uint8Array(fs.readFileSync(path.join(out, c.record)));
          const token = new Uint8Array(fs.readFileSync(path.join(out, c.token)));
          const report = await verifyEvidenceRecord(record, { data: token }, { trustAnchors: [first.root.certificate] });
          expect(report.valid, `${c.record}: ${JSON.stringify(report.checks)}`).to.equal(true);
        }
        expect(result.records).to.equal(proofs.length + checkpoints.length);
      } finally {
        fs.rmSync(work, { recursive: true, force: true });
      }
    });

    it('renews every tree unattended once a TSA with a later certificate answers; the record then outlives the first TSA certificate', async () => {
      const p = proofs[0]!;
      const before = records.get(p.id)!;
      const firstExpiry = new Date(Date.now() + 3 * HOUR);
      const later = new Date(firstExpiry.getTime() + 86_400_000);
      const anchors = [first.root.certificate, second.root.certificate];
      const unrenewed = await verifyEvidenceRecord(before, { data: p.der }, { trustAnchors: anchors, at: later });
      expect(unrenewed).to.include({ valid: false, failedCheck: 'TIMESTAMP_TOKEN' });

      // while the same TSA certificate answers, a renewal would gain nothing: none is stored, the operator is warned
      await until('the renewal warning', async () => log.some((l) => l.includes('renewal needs a TSA with a newer certificate')));
      expect(await svc.rt.store.db('record_tokens').where('position', '>', 0).first()).to.equal(undefined);

      tsa.use(second.tsa);
      const db = svc.rt.store.db;
      // every tree stamped by the first TSA gets one renewal token
      await until('every tree renewed', async () => {
        const firstTrees = (await db('record_tokens').where({ position: 0 }).select('tree_id', 'tsa_not_after')).filter((t: { tsa_not_after: string }) => t.tsa_not_after <= firstExpiry.toISOString());
        const renewed = await db('record_tokens').where({ position: 1 }).select('tree_id');
        return firstTrees.length > 0 && firstTrees.every((t: { tree_id: string }) => renewed.some((r: { tree_id: string }) => r.tree_id === t.tree_id));
      });
      expect(await db('record_tokens').where('position', '>', 1).first()).to.equal(undefined);

      const res = await get(svc, `/v1/messages/${messageId}/evidence/${p.id}/record`, sender.apiKey);
      const after = new Uint8Array(await res.arrayBuffer());
      expect(parseEvidenceRecord(after).chains[0]).to.have.length(2);
      const renewed = await verifyEvidenceRecord(after, { data: p.der }, { trustAnchors: anchors, at: later });
      expect(renewed.valid, JSON.stringify(renewed.checks)).to.equal(true);
      expect(renewed.genTimes).to.have.length(2);
      // and still for no other proof
      const sibling = parseEvidenceRecord(after).chains[0]![0]!.lists?.[0]?.map(hex) ?? [];
      const another = proofs.find((o) => o !== p && !sibling.includes(sha256hex(o.der)));
      if (another) expect(await verifyEvidenceRecord(after, { data: another.der }, { trustAnchors: anchors, at: later })).to.include({ valid: false, failedCheck: 'LEAF_DIGEST' });
      expect(await verifyEvidenceRecord(after, { data: randomBytes(100) }, { trustAnchors: anchors, at: later })).to.include({ valid: false, failedCheck: 'LEAF_DIGEST' });
    });
  });

  describe('before the next tree, one tree per RECORD_TREE_MAX_LEAVES, two workers', () => {
    let svc: TestService;
    let tsa: RecordTsa;
    let pki: DevPki;
    let sender: { id: string; apiKey: string };
    const messages: string[] = [];

    before(async function () {
      pki = await createDevPki('ECDSA-P256', { crlUrl: null });
      tsa = await startRecordTsa(pki.tsa);
      // the job runner seals, but no periodic job is scheduled: the tests below are the only
      // ones entering trees. (A start schedules the current slot's run without waiting for it, so
      // on a loaded machine that run could come after the letters below are sealed; and a day's
      // slot could begin during the test.)
      svc = await startTestService({ TSA_URL: tsa.url, RECORD_INTERVAL_MS: '86400000', RECORD_TREE_MAX_LEAVES: '4', CHECKPOINT_INTERVAL_MS: '86400000' }, { worker: false });
      svc.rt.runner.adoptLocalJobs();
      svc.rt.runner.start();
      await svc.newRecipient('citizen', VALID_INSZ);
      sender = await svc.newSender('Pending sender');
      for (let i = 0; i < 3; i++) messages.push(await sendAndDeposit(svc, sender.apiKey, 20 + i));
      for (const m of messages) await settledProofs(svc, sender.apiKey, m);
    });
    after(async () => {
      await svc?.close();
      await tsa?.close();
    });

    it('answers 404 EVIDENCE_RECORD_PENDING with Retry-After until the next tree, then the record', async () => {
      const [e] = await svc.rt.store.evidence.listForMessage(messages[0]!);
      const res = await get(svc, `/v1/messages/${messages[0]}/evidence/${e!.id}/record`, sender.apiKey);
      expect(res.status).to.equal(404);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(res.headers.get('retry-after')).to.equal('86400');
      expect((await res.json()).code).to.equal('EVIDENCE_RECORD_PENDING');

      const pending = await svc.rt.store.recordTrees.pendingCount();
      // every proof of the service is listed, from its insertion
      const proofCount = Number((await svc.rt.store.db('evidence').count({ n: '*' }).first())!.n);
      const checkpointCount = Number((await svc.rt.store.db('checkpoints').count({ n: '*' }).first())!.n);
      expect(pending).to.equal(proofCount + checkpointCount);
      expect(pending).to.be.at.least(6);
      const asked = tsa.imprints.length;
      const run = await svc.rt.records.enterPending();
      // N proofs, ⌈N / 4⌉ trees, one time-stamp each
      expect(run).to.deep.equal({ trees: Math.ceil(pending / 4), leaves: pending, stamped: Math.ceil(pending / 4) });
      const roots = (await svc.rt.store.db('record_trees').select('root', 'leaf_count')) as { root: string; leaf_count: number }[];
      expect(roots).to.have.length(run.trees);
      for (const t of roots) expect(Number(t.leaf_count)).to.be.within(1, 4);
      const askedNow = tsa.imprints.slice(asked);
      expect(askedNow.filter((i) => roots.some((r) => r.root === i))).to.have.length(run.trees);

      const ok = await get(svc, `/v1/messages/${messages[0]}/evidence/${e!.id}/record`, sender.apiKey);
      expect(ok.status).to.equal(200);
      const report = await verifyEvidenceRecord(new Uint8Array(await ok.arrayBuffer()), { data: e!.der }, { trustAnchors: [pki.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      // nothing left
      expect(await svc.rt.records.enterPending()).to.deep.equal({ trees: 0, leaves: 0, stamped: 0 });
    });

    it('loses nothing in a TSA outage: the tree waits for its time-stamp, its proofs for their records', async () => {
      const id = await sendAndDeposit(svc, sender.apiKey, 30);
      const proofs = await settledProofs(svc, sender.apiKey, id);
      tsa.down = true;
      try {
        let failed: unknown;
        await svc.rt.records.enterPending().catch((err: unknown) => (failed = err));
        expect(failed, 'the run fails while the TSA is down').to.be.instanceOf(Error);
        // claimed, waiting for its time-stamp: still pending (the metrics gauge)
        expect(await svc.rt.records.pending()).to.be.at.least(proofs.length);
        const res = await get(svc, `/v1/messages/${id}/evidence/${proofs[0]!.id}/record`, sender.apiKey);
        expect(res.status).to.equal(404);
        expect((await res.json()).code).to.equal('EVIDENCE_RECORD_PENDING');
      } finally {
        tsa.down = false;
      }
      const run = await svc.rt.records.enterPending();
      expect(run.stamped).to.be.at.least(1);
      for (const p of proofs) {
        const res = await get(svc, `/v1/messages/${id}/evidence/${p.id}/record`, sender.apiKey);
        expect(res.status).to.equal(200);
        const report = await verifyEvidenceRecord(new Uint8Array(await res.arrayBuffer()), { data: p.der }, { trustAnchors: [pki.root.certificate] });
        expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      }
      expect(await svc.rt.store.recordTrees.unstamped(new Date(Date.now() + 1000), 10)).to.deep.equal([]);
      expect(await svc.rt.records.pending()).to.equal(0);
    });

    it('two workers on their own connections never enter one proof twice', async () => {
      // many proofs pending at once: rows of the evidence table for a message of the test
      const rows = Array.from({ length: 120 }, (_, i) => {
        const der = new Uint8Array(randomBytes(64));
        return { id: randomUUID(), messageId: messages[1]!, seq: 1000 + i, type: 'SubmissionAcceptance' as const, statement: '{}', der, sha256: sha256hex(der), createdAt: new Date().toISOString() };
      });
      await svc.rt.store.transaction(async (tx) => {
        for (const r of rows) await tx.evidence.insert(r);
      });
      const config = loadConfig(svc.env);
      const other = await openStore(config, { migrate: false });
      try {
        const stamper = { timestamp: (d: Uint8Array) => svc.rt.timeStamper.timestamp(d), timestampDigest: (d: Uint8Array) => svc.rt.timeStamper.timestampDigest(d) };
        const workers = [new EvidenceRecordService(svc.rt.store, stamper, config, silent), new EvidenceRecordService(other.repositories, stamper, config, silent)];
        const runs = await Promise.all([...workers, ...workers].map((w) => w.enterPending()));
        const entered = runs.reduce((n, r) => n + r.leaves, 0);
        expect(entered).to.equal(rows.length);
        expect(await svc.rt.store.recordTrees.pendingCount()).to.equal(0);
        const leaves = await svc.rt.store.db('record_leaves').whereIn('subject_id', rows.map((r) => r.id)).select('subject_id', 'tree_id');
        expect(leaves).to.have.length(rows.length);
        expect(new Set(leaves.map((l: { subject_id: string }) => l.subject_id)).size).to.equal(rows.length);
        // every tree has its one token, over its root, and each record verifies
        const trees = new Set(leaves.map((l: { tree_id: string }) => l.tree_id));
        for (const id of trees) expect(await svc.rt.store.recordTrees.tokens(id as string)).to.have.length(1);
        for (const r of rows.filter((_, i) => i % 17 === 0)) {
          const record = await svc.rt.records.record('evidence', r.id);
          const report = await verifyEvidenceRecord(record!, { data: r.der }, { trustAnchors: [pki.root.certificate] });
          expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
        }
      } finally {
        await other.close();
      }
    });

    it('renews every due tree in one run, batch after batch, one token each; then none while the TSA certificate is the same', async () => {
      // more trees than one batch (64)
      const rows = Array.from({ length: 280 }, (_, i) => {
        const der = new Uint8Array(randomBytes(48));
        return { id: randomUUID(), messageId: messages[2]!, seq: 5000 + i, type: 'SubmissionAcceptance' as const, statement: '{}', der, sha256: sha256hex(der), createdAt: new Date().toISOString() };
      });
      await svc.rt.store.transaction(async (tx) => {
        for (const r of rows) await tx.evidence.insert(r);
      });
      await svc.rt.records.enterPending();
      const trees = (await svc.rt.store.db('record_trees').count({ n: '*' }).first())!.n;
      expect(Number(trees)).to.be.above(64);
      // a TSA whose certificate ends later than the first one's (made a second later)
      await sleep(1100);
      const later = await createDevPki('ECDSA-P256', { crlUrl: null });
      const stamper = new LocalTimeStamper(new TimeStampAuthority(later.tsa, { policyOid: '2.25.4998' }));
      const warnings: string[] = [];
      const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
      const config = { records: { ...svc.config.records, renewBeforeMs: 20 * 365 * 86_400_000 } };
      const renewer = new EvidenceRecordService(svc.rt.store, stamper, config, log);
      expect(await renewer.renewDue()).to.equal(Number(trees));
      expect(Number((await svc.rt.store.db('record_tokens').where({ position: 1 }).count({ n: '*' }).first())!.n)).to.equal(Number(trees));
      const record = await svc.rt.records.record('evidence', rows[0]!.id);
      const report = await verifyEvidenceRecord(record!, { data: rows[0]!.der }, { trustAnchors: [pki.root.certificate, later.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.genTimes).to.have.length(2);
      // renewing again with the same certificate gains nothing: no token stored, a warning
      expect(await renewer.renewDue()).to.equal(0);
      expect(Number((await svc.rt.store.db('record_tokens').where({ position: 2 }).count({ n: '*' }).first())!.n)).to.equal(0);
      expect(warnings.join('\n')).to.contain('renewal needs a TSA with a newer certificate');
    });
  });
});

describe(`hash-tree renewal when RECORD_HASH_ALGORITHM changes (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(240_000);
  let before256: TestService | undefined;
  let svc: TestService;
  let tsa: RecordTsa;
  let first: DevPki;
  let second: DevPki;
  let sender: { id: string; apiKey: string };
  const proofs: { id: string; seq: number; type: string; der: Uint8Array; messageId: string }[] = [];
  let checkpoint: { id: number; token: Uint8Array };
  const log: string[] = [];
  const sha512hex = (b: Uint8Array) => createHash('sha512').update(b).digest('hex');
  const recordOf = async (p: { id: string; messageId: string }) => {
    const res = await get(svc, `/v1/messages/${p.messageId}/evidence/${p.id}/record`, sender.apiKey);
    return res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : undefined;
  };
  const algorithmsOf = (record: Uint8Array) => parseEvidenceRecord(record).chains.length;

  before(async () => {
    first = await expiringPki(3);
    second = await createDevPki('ECDSA-P256', { crlUrl: null });
    tsa = await startRecordTsa(first.tsa);
    // SHA-256 trees of at most 3 leaves
    before256 = await startTestService(
      { TSA_URL: tsa.url, RECORD_INTERVAL_MS: '200', RECORD_TREE_MAX_LEAVES: '3', RECORD_RENEW_INTERVAL_MS: '300', CHECKPOINT_INTERVAL_MS: '86400000' },
      { keepData: true },
    );
    await before256.newRecipient('citizen', VALID_INSZ);
    sender = await before256.newSender('Rehash sender');
    for (const seed of [41, 42]) {
      const id = await sendAndDeposit(before256, sender.apiKey, seed);
      proofs.push(...(await settledProofs(before256, sender.apiKey, id)).map((p) => ({ ...p, messageId: id })));
    }
    svc = before256;
    for (const p of proofs) await until(`the SHA-256 record of ${p.type}`, () => recordOf(p));
    // a checkpoint of the log, in a tree too
    expect(await checkpointHead(svc.rt.store, svc.rt.timeStamper)).to.equal(true);
    checkpoint = (await svc.rt.store.checkpoints.latest())!;
    await until('the checkpoint in a time-stamped tree', () => svc.rt.records.record('checkpoint', String(checkpoint.id)));
    await until('no tree under way', async () => (await svc.rt.records.pending()) === 0);
    expect(Number((await svc.rt.store.db('record_trees').count({ n: '*' }).first())!.n)).to.be.at.least(2);
    const reuse = { dataDir: before256.dataDir, database: before256.database };
    await before256.close();
    // the same database, restarted with the new algorithm
    svc = await startTestService(
      { TSA_URL: tsa.url, RECORD_INTERVAL_MS: '200', RECORD_TREE_MAX_LEAVES: '64', RECORD_RENEW_INTERVAL_MS: '300', CHECKPOINT_INTERVAL_MS: '86400000', RECORD_HASH_ALGORITHM: 'SHA-512' },
      { reuse, log, logLevel: 'info' },
    );
  });
  after(async () => {
    await svc?.close();
    // a start that failed before the restart leaves the kept database
    if (svc === before256 && before256) {
      await before256.database.drop();
      fs.rmSync(before256.dataDir, { recursive: true, force: true });
    }
    await tsa?.close();
  });

  it("gives every existing proof's record a SHA-512 chain within the job's period, valid for that proof and for no other; one token per new tree", async () => {
    const db = svc.rt.store.db;
    const renewed = new Map<string, Uint8Array>();
    for (const p of proofs) {
      renewed.set(p.id, await until(`the SHA-512 chain of ${p.type}`, async () => {
        const r = await recordOf(p);
        return r && algorithmsOf(r) === 2 ? r : undefined;
      }));
    }
    for (const p of proofs) {
      const record = renewed.get(p.id)!;
      const report = await verifyEvidenceRecord(record, { data: p.der }, { trustAnchors: [first.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-256', 'SHA-512']);
      // the first chain as it was before the renewal: the proof's SHA-256 in a tree of at most 3
      expect(parseEvidenceRecord(record).chains[0]).to.have.length(1);
      // another proof: any but the first chain's sibling, whose digest the record holds (its chains are the same for both)
      const sibling = parseEvidenceRecord(record).chains[0]![0]!.lists?.[0]?.map(hex) ?? [];
      const others = proofs.filter((o) => o !== p && !sibling.includes(sha256hex(o.der)));
      expect(others.length).to.be.at.least(1);
      for (const other of others) {
        const wrong = await verifyEvidenceRecord(record, { data: other.der }, { trustAnchors: [first.root.certificate] });
        expect(wrong, `${p.type} for ${other.type}`).to.include({ valid: false, failedCheck: 'LEAF_DIGEST' });
      }
      // one renewal chain per proof, in one tree of several old trees' leaves
      const chains = await db('record_leaves').where({ kind: 'evidence', subject_id: p.id }).orderBy('chain').select('chain', 'tree_id', 'prior_tokens');
      expect(chains.map((c: { chain: number }) => Number(c.chain))).to.deep.equal([1, 2]);
      expect(Number(chains[1].prior_tokens)).to.equal(1);
    }
    const renewalTrees = await db('record_trees as t').whereExists(db('record_leaves as l').whereRaw('l.tree_id = t.id').where('l.chain', 2).select(db.raw('1'))).select('t.id', 't.root', 't.algorithm', 't.leaf_count');
    expect(renewalTrees.length).to.be.at.least(1);
    const oldTrees = await db('record_trees').where({ algorithm: 'SHA-256' }).select('id', 'closed_at');
    // many old trees' leaves in one new tree (at most 64 a tree, at most 3 an old one)
    expect(renewalTrees.length).to.be.below(oldTrees.length);
    for (const t of renewalTrees) {
      expect(t.algorithm).to.equal('SHA-512');
      expect(tsa.imprints.filter((i) => i === t.root), `root of tree ${t.id}`).to.have.length(1);
      const [token] = await svc.rt.store.recordTrees.tokens(t.id);
      expect(hex(parseTimeStampToken(token!.token).messageImprint.hashedMessage)).to.equal(t.root);
    }
    // every old tree is covered by the later chains: closed
    for (const t of oldTrees) expect(t.closed_at, `tree ${t.id}`).to.be.a('string');
    // the checkpoint's record too, for its token
    const cRecord = await until('the checkpoint renewed', async () => {
      const r = await svc.rt.records.record('checkpoint', String(checkpoint.id));
      return r && algorithmsOf(r) === 2 ? r : undefined;
    });
    const cReport = await verifyEvidenceRecord(cRecord, { data: checkpoint.token }, { trustAnchors: [first.root.certificate] });
    expect(cReport.valid, JSON.stringify(cReport.checks)).to.equal(true);
    expect((await verifyEvidenceRecord(cRecord, { data: proofs[0]!.der }, { trustAnchors: [first.root.certificate] })).valid).to.equal(false);
  });

  it('seals proofs after the switch into SHA-512 trees from the start', async () => {
    const id = await sendAndDeposit(svc, sender.apiKey, 43);
    const fresh = (await settledProofs(svc, sender.apiKey, id)).map((p) => ({ ...p, messageId: id }));
    for (const p of fresh) {
      const record = await until(`the record of ${p.type}`, () => recordOf(p));
      const report = await verifyEvidenceRecord(record, { data: p.der }, { trustAnchors: [first.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-512']);
      const leaf = await svc.rt.store.db('record_leaves').where({ kind: 'evidence', subject_id: p.id }).select('digest', 'chain');
      expect(leaf).to.deep.equal([{ digest: sha512hex(p.der), chain: 1 }]);
    }
  });

  it('passes the auditor CLI on a hash-tree-renewed record', async () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-ers-rehash-'));
    try {
      const p = proofs[0]!;
      const proofFile = path.join(work, 'proof.p7s');
      const recordFile = path.join(work, 'proof.ers');
      const tsaRoot = path.join(work, 'tsa-root.pem');
      fs.writeFileSync(proofFile, p.der);
      fs.writeFileSync(recordFile, (await recordOf(p))!);
      fs.writeFileSync(tsaRoot, derToPem(first.root.certificate, 'CERTIFICATE'));
      const r = await runCli('verify', [proofFile, '--record', recordFile, '--trust', svc.rootPem, '--trust', tsaRoot, '--json']);
      const report = JSON.parse(r.stdout);
      expect(report.indication, r.stdout + r.stderr).to.equal('TOTAL_PASSED');
      expect(report.evidenceRecord).to.deep.include({ source: 'option', valid: true });
      // another proof with this record: the record fails, NO_POE
      const otherFile = path.join(work, 'other.p7s');
      const sibling = parseEvidenceRecord(fs.readFileSync(recordFile)).chains[0]![0]!.lists?.[0]?.map(hex) ?? [];
      fs.writeFileSync(otherFile, proofs.find((o) => o !== p && !sibling.includes(sha256hex(o.der)))!.der);
      const wrong = JSON.parse((await runCli('verify', [otherFile, '--record', recordFile, '--trust', svc.rootPem, '--trust', tsaRoot, '--json'])).stdout);
      expect(wrong.evidenceRecord.valid).to.equal(false);
      expect(wrong.indication).to.not.equal('TOTAL_PASSED');
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it('renews the SHA-512 chain by time-stamp afterwards, never a closed SHA-256 tree', async () => {
    const db = svc.rt.store.db;
    await until('the renewal warning', async () => log.some((l) => l.includes('renewal needs a TSA with a newer certificate')));
    tsa.use(second.tsa);
    const sha512Trees = async () => (await db('record_trees').where({ algorithm: 'SHA-512' }).select('id')).map((t: { id: string }) => t.id);
    await until('every SHA-512 tree renewed', async () => {
      const renewedTrees = (await db('record_tokens').where({ position: 1 }).select('tree_id')).map((t: { tree_id: string }) => t.tree_id);
      const trees = await sha512Trees();
      return trees.length > 0 && trees.every((t) => renewedTrees.includes(t));
    });
    const oldTrees = (await db('record_trees').where({ algorithm: 'SHA-256' }).select('id')).map((t: { id: string }) => t.id);
    expect(await db('record_tokens').whereIn('tree_id', oldTrees).where('position', '>', 0).first()).to.equal(undefined);
    const later = new Date(Date.now() + 3 * HOUR + 86_400_000);
    const anchors = [first.root.certificate, second.root.certificate];
    for (const p of proofs) {
      const record = (await recordOf(p))!;
      const chains = parseEvidenceRecord(record).chains;
      expect(chains.map((c) => c.length)).to.deep.equal([1, 2]);
      const report = await verifyEvidenceRecord(record, { data: p.der }, { trustAnchors: anchors, at: later });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.genTimes).to.have.length(3);
    }
  });
});

describe(`hash-tree renewal by two workers (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let pki: DevPki;

  before(async () => {
    pki = await createDevPki('ECDSA-P256', { crlUrl: null });
    // no periodic run during the test: the workers below are the only ones
    svc = await startTestService({ RECORD_INTERVAL_MS: '86400000', RECORD_RENEW_INTERVAL_MS: '86400000', CHECKPOINT_INTERVAL_MS: '86400000', RECORD_TREE_MAX_LEAVES: '7' }, { worker: false });
  });
  after(async () => {
    await svc?.close();
  });

  it('never makes two renewal chains for one subject, and resumes after a TSA outage', async () => {
    const { sender } = await createSenderRow(svc);
    const messageId = randomUUID();
    const now = new Date().toISOString();
    await svc.rt.store.db('messages').insert({ id: messageId, sender_id: sender, recipient_type: 'citizen', recipient_id: VALID_INSZ, subject: '{}', status: 'ACCEPTED', submitted_at: now, updated_at: now });
    const rows = Array.from({ length: 90 }, (_, i) => {
      const der = new Uint8Array(randomBytes(64));
      return { id: randomUUID(), messageId, seq: i + 1, type: 'SubmissionAcceptance' as const, statement: '{}', der, sha256: sha256hex(der), createdAt: now };
    });
    await svc.rt.store.transaction(async (tx) => {
      for (const r of rows) await tx.evidence.insert(r);
    });
    const stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '2.25.4998' }));
    await new EvidenceRecordService(svc.rt.store, stamper, svc.config, silent).enterPending();

    const config = loadConfig({ ...svc.env, RECORD_HASH_ALGORITHM: 'SHA-384', RECORD_TREE_MAX_LEAVES: '20' });
    // a TSA outage first: the claimed tree waits, nothing is lost
    let down = true;
    let asked = 0;
    const flaky = {
      timestamp: (d: Uint8Array) => stamper.timestamp(d),
      timestampDigest: async (d: Uint8Array, a?: 'SHA-256' | 'SHA-384' | 'SHA-512') => {
        if (down) throw new Error('TSA down');
        asked++;
        return stamper.timestampDigest(d, a);
      },
    };
    const broken = new EvidenceRecordService(svc.rt.store, flaky, config, silent);
    let failed: unknown;
    await broken.renewHashTrees().catch((err: unknown) => (failed = err));
    expect(String(failed)).to.match(/TSA down/);
    down = false;

    const other = await openStore(config, { migrate: false });
    try {
      const workers = [broken, new EvidenceRecordService(other.repositories, flaky, config, silent), new EvidenceRecordService(svc.rt.store, flaky, config, silent)];
      await Promise.all([...workers, ...workers].map((w) => w.renewHashTrees()));
      // the tree left by the outage is stamped by the process that claimed it
      expect(await broken.enterPending()).to.deep.include({ trees: 0 });
      const db = svc.rt.store.db;
      const second = await db('record_leaves').whereIn('subject_id', rows.map((r) => r.id)).where('chain', 2).select('subject_id', 'tree_id');
      expect(second).to.have.length(rows.length);
      expect(new Set(second.map((l: { subject_id: string }) => l.subject_id)).size).to.equal(rows.length);
      expect(await db('record_leaves').where('chain', '>', 2).first()).to.equal(undefined);
      const trees = [...new Set(second.map((l: { tree_id: string }) => l.tree_id as string))];
      // one token per new tree, each asked for once
      for (const id of trees) expect(await svc.rt.store.recordTrees.tokens(id)).to.have.length(1);
      expect(asked).to.equal(trees.length);
      for (const r of rows.filter((_, i) => i % 11 === 0)) {
        const record = await workers[1]!.record('evidence', r.id);
        const report = await verifyEvidenceRecord(record!, { data: r.der }, { trustAnchors: [pki.root.certificate] });
        expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
        expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-256', 'SHA-384']);
      }
      // nothing left to renew
      expect(await workers[2]!.renewHashTrees()).to.deep.equal({ hashTrees: 0, rehashed: 0 });
    } finally {
      await other.close();
    }
  });

  it('a proof that no longer gives its leaf fails the hash-tree renewal, naming it; the time-stamp renewals still run', async () => {
    const { sender } = await createSenderRow(svc);
    const messageId = randomUUID();
    const now = new Date().toISOString();
    await svc.rt.store.db('messages').insert({ id: messageId, sender_id: sender, recipient_type: 'citizen', recipient_id: VALID_INSZ, subject: '{}', status: 'ACCEPTED', submitted_at: now, updated_at: now });
    const rows = Array.from({ length: 4 }, (_, i) => {
      const der = new Uint8Array(randomBytes(64));
      return { id: randomUUID(), messageId, seq: i + 1, type: 'SubmissionAcceptance' as const, statement: '{}', der, sha256: sha256hex(der), createdAt: now };
    });
    await svc.rt.store.transaction(async (tx) => {
      for (const r of rows) await tx.evidence.insert(r);
    });
    const stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '2.25.4998' }));
    await new EvidenceRecordService(svc.rt.store, stamper, svc.config, silent).enterPending();
    const [leaf] = await svc.rt.store.recordTrees.chains('evidence', rows[1]!.id);
    await svc.rt.store.db('evidence').where({ id: rows[0]!.id }).update({ der: randomBytes(64) });

    // a TSA whose certificate ends later than the first one's (made a second later)
    await sleep(1100);
    const later = await createDevPki('ECDSA-P256', { crlUrl: null });
    const config = loadConfig({ ...svc.env, RECORD_HASH_ALGORITHM: 'SHA-384' });
    const renewer = new EvidenceRecordService(svc.rt.store, new LocalTimeStamper(new TimeStampAuthority(later.tsa, { policyOid: '2.25.4998' })), { records: { ...config.records, renewBeforeMs: 20 * 365 * 86_400_000 } }, silent);
    let failed: unknown;
    await renewer.renew().catch((err: unknown) => (failed = err));
    expect(String(failed)).to.contain(rows[0]!.id).and.to.match(/no longer the leaf its record was made for/);
    // no new chain for any of them, the SHA-256 tree renewed by time-stamp, its records valid
    expect(await svc.rt.store.db('record_leaves').whereIn('subject_id', rows.map((r) => r.id)).where('chain', '>', 1).first()).to.equal(undefined);
    expect(await svc.rt.store.recordTrees.tokens(leaf!.treeId)).to.have.length(2);
    const report = await verifyEvidenceRecord((await renewer.record('evidence', rows[1]!.id))!, { data: rows[1]!.der }, { trustAnchors: [pki.root.certificate, later.root.certificate] });
    expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
    expect(report.genTimes).to.have.length(2);
  });
});

async function createSenderRow(svc: TestService): Promise<{ sender: string }> {
  return { sender: (await svc.newSender('Two renewers')).id };
}
