/**
 * The evidence-records migration on a database that already holds proofs and checkpoints:
 * every one of them is pending from it on (its leaf computed as the service computes it), the
 * first tree takes them all, and the migration's `down` removes its tables. SQLite, and
 * PostgreSQL with TEST_DATABASE_URL.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { createSender } from '../../src/access/senders.js';
import { openStore, type OpenedStore } from '../../src/app/store.js';
import { loadConfig } from '../../src/config.js';
import { createDevPki, LocalTimeStamper, TimeStampAuthority, verifyEvidenceRecord } from '../../src/crypto/index.js';
import { EvidenceRecordService } from '../../src/registered-mail/records.js';
import { migrationConfig } from '../../src/store/database.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';

const MIGRATION = '20261204000200_evidence_records';
/** the chains migration after it: undone first, done again before the service runs */
const CHAINS = '20261204000500_record_chains';
const sha256hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe(`evidence-records migration over existing proofs (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let dir: string;
  let database: TestDatabase;
  let store: OpenedStore;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-ers-migration-'));
    database = await createTestDatabase(dir);
  });
  after(async () => {
    await store?.close();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the proofs and checkpoints made before it as pending, and the first tree takes them', async () => {
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: dir, DATABASE_URL: database.url });
    store = await openStore(config);
    const db = store.db;
    // the schema as it was before the migration
    await db.migrate.down({ ...migrationConfig(), name: CHAINS });
    await db.migrate.down({ ...migrationConfig(), name: MIGRATION });
    expect(await db.schema.hasTable('record_pending')).to.equal(false);

    const now = new Date().toISOString();
    const { sender } = await createSender(store.repositories, 'Before');
    const messageId = randomUUID();
    await db('messages').insert({ id: messageId, sender_id: sender.id, recipient_type: 'citizen', recipient_id: '85073003328', subject: '{}', status: 'ACCEPTED', submitted_at: now, updated_at: now });
    const proofs = Array.from({ length: 5 }, (_, i) => {
      const der = randomBytes(80);
      return { id: randomUUID(), message_id: messageId, seq: i + 1, type: 'SubmissionAcceptance', statement: '{}', der, sha256: sha256hex(der), created_at: now };
    });
    await db('evidence').insert(proofs);
    const token = randomBytes(120);
    await db('checkpoints').insert({ event_seq: 7, head_hash: 'ab'.repeat(32), token, gen_time: now, created_at: now });

    await db.migrate.up({ ...migrationConfig(), name: MIGRATION });
    await db.migrate.up({ ...migrationConfig(), name: CHAINS });
    const pending = await store.repositories.recordTrees.pending(100);
    expect(pending).to.have.length(6);
    for (const p of proofs) expect(pending).to.deep.include({ kind: 'evidence', subjectId: p.id, digest: sha256hex(p.der) });
    const checkpoint = await db('checkpoints').first();
    expect(pending).to.deep.include({ kind: 'checkpoint', subjectId: String(checkpoint.id), digest: sha256hex(token) });

    const pki = await createDevPki('ECDSA-P256', { crlUrl: null });
    const records = new EvidenceRecordService(store.repositories, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.2.3' })), config, pino({ level: 'silent' }));
    expect(await records.enterPending()).to.deep.equal({ trees: 1, leaves: 6, stamped: 1 });
    for (const p of proofs) {
      const report = await verifyEvidenceRecord((await records.record('evidence', p.id))!, { data: new Uint8Array(p.der) }, { trustAnchors: [pki.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
    }
    expect(await store.repositories.recordTrees.pendingCount()).to.equal(0);

    // a leaf changed in the table since its tree was time-stamped: no record is built from it
    await db('record_leaves').where({ kind: 'evidence', subject_id: proofs[1]!.id }).update({ digest: sha256hex(randomBytes(8)) });
    const fresh = new EvidenceRecordService(store.repositories, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.2.3' })), config, pino({ level: 'silent' }));
    let refused: unknown;
    await fresh.record('evidence', proofs[0]!.id).catch((err: unknown) => (refused = err));
    expect(String(refused)).to.match(/no longer give the root that was time-stamped/);

    // and down again: its tables are gone, the proofs stay
    await db.migrate.down({ ...migrationConfig(), name: CHAINS });
    await db.migrate.down({ ...migrationConfig(), name: MIGRATION });
    for (const t of ['record_pending', 'record_leaves', 'record_tokens', 'record_trees']) expect(await db.schema.hasTable(t), t).to.equal(false);
    expect(Number((await db('evidence').count({ n: '*' }).first())!.n)).to.equal(5);
  });

  it('keeps the trees made before the chains migration as chain 1, renewable; its down removes the renewal chains', async () => {
    await store?.close();
    const config = loadConfig({ APP_ENV: 'test', DATA_DIR: dir, DATABASE_URL: database.url });
    store = await openStore(config);
    const db = store.db;
    await db.migrate.down({ ...migrationConfig(), name: CHAINS });
    expect(await db.schema.hasColumn('record_leaves', 'chain')).to.equal(false);

    const now = new Date().toISOString();
    const { sender } = await createSender(store.repositories, 'Before chains');
    const messageId = randomUUID();
    await db('messages').insert({ id: messageId, sender_id: sender.id, recipient_type: 'citizen', recipient_id: '85073003328', subject: '{}', status: 'ACCEPTED', submitted_at: now, updated_at: now });
    const proofs = Array.from({ length: 3 }, (_, i) => {
      const der = randomBytes(90);
      return { id: randomUUID(), messageId, seq: i + 1, type: 'SubmissionAcceptance' as const, statement: '{}', der: new Uint8Array(der), sha256: sha256hex(der), createdAt: now };
    });
    await store.repositories.transaction(async (tx) => {
      for (const p of proofs) await tx.evidence.insert(p);
    });
    const pki = await createDevPki('ECDSA-P256', { crlUrl: null });
    const stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.2.3' }));
    // a tree made on the schema before the chains migration
    expect((await new EvidenceRecordService(store.repositories, stamper, config, pino({ level: 'silent' })).enterPending()).leaves).to.be.at.least(3);

    await db.migrate.up({ ...migrationConfig(), name: CHAINS });
    const rows = await db('record_leaves').whereIn('subject_id', proofs.map((p) => p.id)).select('chain', 'prior_tokens');
    expect(rows.map((r: { chain: number }) => Number(r.chain))).to.deep.equal([1, 1, 1]);
    expect(rows.every((r: { prior_tokens: unknown }) => r.prior_tokens === null)).to.equal(true);
    expect(await db('record_trees').whereNotNull('closed_at').first()).to.equal(undefined);

    const sha512 = loadConfig({ APP_ENV: 'test', DATA_DIR: dir, DATABASE_URL: database.url, RECORD_HASH_ALGORITHM: 'SHA-512' });
    const renewer = new EvidenceRecordService(store.repositories, stamper, sha512, pino({ level: 'silent' }));
    const run = await renewer.renewHashTrees();
    expect(run.hashTrees).to.equal(1);
    for (const p of proofs) {
      const record = (await renewer.record('evidence', p.id))!;
      const report = await verifyEvidenceRecord(record, { data: p.der }, { trustAnchors: [pki.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-256', 'SHA-512']);
    }

    // down: the renewal chains and their tree go, the first chains stay valid
    await db.migrate.down({ ...migrationConfig(), name: CHAINS });
    expect(await db('record_trees').where({ algorithm: 'SHA-512' }).first()).to.equal(undefined);
    expect(await db.schema.hasColumn('record_trees', 'closed_at')).to.equal(false);
    await db.migrate.up({ ...migrationConfig(), name: CHAINS });
    const fresh = new EvidenceRecordService(store.repositories, stamper, config, pino({ level: 'silent' }));
    for (const p of proofs) {
      const report = await verifyEvidenceRecord((await fresh.record('evidence', p.id))!, { data: p.der }, { trustAnchors: [pki.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.chains).to.have.length(1);
    }
  });
});
