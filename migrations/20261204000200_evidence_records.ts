import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * RFC 4998 evidence records (docs/evidence-records.md, "In the service"): hash trees over the
 * service's proofs and event-log checkpoints, each tree's chain of archive time-stamp tokens
 * (the first over its root, then each renewal), and the leaves. A record is built on demand
 * from a tree's leaves and tokens; none is stored. A proof or a checkpoint is a leaf of one
 * tree at most: the primary key of `record_leaves` says so to every worker.
 *
 * `record_pending` lists the proofs and checkpoints in no tree yet, written in the transaction
 * that inserts them (EvidenceRepository, CheckpointRepository) and emptied as trees take them:
 * finding what to enter costs what is pending, not the whole evidence table. The proofs and
 * checkpoints made before this migration are pending from it on.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('record_trees', (t) => {
    t.string('id', 36).primary();
    t.string('created_at', 30).notNullable();
    /** the hash of the leaves and nodes: SHA-256 */
    t.string('algorithm', 16).notNullable();
    t.integer('leaf_count').notNullable();
    /** the root (hex), the first token's imprint */
    t.string('root', 128).notNullable();
    t.index(['created_at']);
  });
  await knex.schema.createTable('record_tokens', (t) => {
    t.string('tree_id', 36).notNullable().references('id').inTable('record_trees');
    /** 0: the time-stamp over the root; 1, 2, …: its renewals */
    t.integer('position').notNullable();
    t.binary('token').notNullable();
    t.string('gen_time', 30).notNullable();
    /** the TSA certificate's notAfter (null when the token does not carry it) */
    t.string('tsa_not_after', 30);
    t.string('created_at', 30).notNullable();
    t.primary(['tree_id', 'position']);
  });
  await knex.schema.createTable('record_leaves', (t) => {
    t.string('tree_id', 36).notNullable().references('id').inTable('record_trees');
    /** evidence (a proof: evidence.id) or checkpoint (checkpoints.id) */
    t.string('kind', 16).notNullable();
    t.string('subject_id', 36).notNullable();
    /** SHA-256 (hex) of the proof's DER, or of the checkpoint's time-stamp token */
    t.string('digest', 128).notNullable();
    t.primary(['kind', 'subject_id']);
    t.index(['tree_id']);
  });
  await knex.schema.createTable('record_pending', (t) => {
    t.increments('id').primary();
    t.string('kind', 16).notNullable();
    t.string('subject_id', 36).notNullable();
    t.string('digest', 128).notNullable();
    t.string('created_at', 30).notNullable();
    t.unique(['kind', 'subject_id']);
  });
  const now = new Date().toISOString();
  // what exists already, oldest first
  for (let after = ''; ; ) {
    const rows = await knex('evidence').where('id', '>', after).orderBy('id').limit(1000).select('id', 'sha256', 'created_at');
    if (rows.length === 0) break;
    await knex('record_pending').insert(rows.map((r: { id: string; sha256: string; created_at: string }) => ({ kind: 'evidence', subject_id: r.id, digest: r.sha256, created_at: r.created_at })));
    after = rows[rows.length - 1].id;
  }
  for (let after = 0; ; ) {
    const rows = await knex('checkpoints').where('id', '>', after).orderBy('id').limit(1000).select('id', 'token');
    if (rows.length === 0) break;
    await knex('record_pending').insert(rows.map((r: { id: number; token: Buffer }) => ({ kind: 'checkpoint', subject_id: String(r.id), digest: createHash('sha256').update(r.token).digest('hex'), created_at: now })));
    after = Number(rows[rows.length - 1].id);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('record_pending');
  await knex.schema.dropTable('record_leaves');
  await knex.schema.dropTable('record_tokens');
  await knex.schema.dropTable('record_trees');
}
