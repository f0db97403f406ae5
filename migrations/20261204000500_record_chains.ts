import type { Knex } from 'knex';

/**
 * Hash-tree renewal of evidence records (docs/evidence-records.md, "In the service"): a proof
 * or checkpoint is a leaf of one tree per ArchiveTimeStampChain of its record. `record_leaves`
 * gains `chain` (1: the first tree it entered; 2, 3, …: each hash-tree renewal) and, for a
 * chain after the first, `prior_tokens`: how many tokens of the previous chain's tree the new
 * chain's leaf covers (the previous chain as it was when it was closed for this leaf). Its
 * primary key becomes (kind, subject_id, chain): one leaf per subject and chain, whichever
 * worker enters it first. `record_trees.closed_at` is set once every leaf of a tree has a later
 * chain: such a tree gets no more time-stamp renewals. Existing rows stay valid: chain 1, open.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('record_trees', (t) => {
    t.string('closed_at', 30);
    t.index(['closed_at', 'algorithm', 'created_at']);
  });
  await knex.schema.alterTable('record_leaves', (t) => {
    t.integer('chain').notNullable().defaultTo(1);
    t.integer('prior_tokens');
  });
  await knex.schema.alterTable('record_leaves', (t) => {
    t.dropPrimary();
    t.primary(['kind', 'subject_id', 'chain']);
  });
}

/** Back to one leaf per subject: the renewal chains (their leaves, trees and tokens) are removed. */
export async function down(knex: Knex): Promise<void> {
  await knex('record_leaves').where('chain', '>', 1).delete();
  const orphans = knex('record_trees as t').whereNotExists(knex('record_leaves as l').whereRaw('l.tree_id = t.id').select(knex.raw('1'))).select('t.id');
  const ids = (await orphans).map((r: { id: string }) => r.id);
  for (let i = 0; i < ids.length; i += 500) {
    await knex('record_tokens').whereIn('tree_id', ids.slice(i, i + 500)).delete();
    await knex('record_trees').whereIn('id', ids.slice(i, i + 500)).delete();
  }
  await knex.schema.alterTable('record_leaves', (t) => {
    t.dropPrimary();
    t.primary(['kind', 'subject_id']);
  });
  await knex.schema.alterTable('record_leaves', (t) => {
    t.dropColumn('prior_tokens');
    t.dropColumn('chain');
  });
  await knex.schema.alterTable('record_trees', (t) => {
    t.dropIndex(['closed_at', 'algorithm', 'created_at']);
  });
  // in place on both databases (knex would rebuild the table on SQLite, which the foreign keys to it refuse)
  await knex.raw('ALTER TABLE record_trees DROP COLUMN closed_at');
}
