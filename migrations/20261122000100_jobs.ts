import type { Knex } from 'knex';

/**
 * The transactional outbox: work after acceptance is a row here, written in the same
 * transaction as the state it follows from, claimed by workers (PostgreSQL: FOR UPDATE
 * SKIP LOCKED), retried with backoff, and moved to `dead` when its budget is spent.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id').primary();
    t.string('type', 60).notNullable();
    t.text('payload').notNullable();
    t.string('message_id', 36);
    /** at most one job with the same key: enqueueing it twice is a no-op */
    t.string('dedupe_key', 200).unique();
    t.string('status', 12).notNullable(); // pending | running | done | dead
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable();
    t.string('run_at', 30).notNullable();
    t.string('locked_by', 100);
    t.string('locked_until', 30);
    t.text('last_error');
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['status', 'run_at']);
    t.index(['message_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('jobs');
}
