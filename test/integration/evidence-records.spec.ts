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
import { createDevPki, LocalTimeStamper, parseTimeStampToken, TimeStampAuthority, verifyEvidenceRecord, type DevPki } from '../../src/crypto/index.js';
import { parseEvidenceRecord } from '../../src/crypto/EvidenceRecord.js';
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
      // the periodic job runs at the start of each day: the test runs well inside one
      this.timeout(360_000);
      const msIntoDay = Date.now() % 86_400_000;
      if (msIntoDay > 86_400_000 - 180_000) await sleep(86_400_000 - msIntoDay + 1000);
      pki = await createDevPki('ECDSA-P256', { crlUrl: null });
      tsa = await startRecordTsa(pki.tsa);
      svc = await startTestService({ TSA_URL: tsa.url, RECORD_INTERVAL_MS: '86400000', RECORD_TREE_MAX_LEAVES: '4', CHECKPOINT_INTERVAL_MS: '86400000' });
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
