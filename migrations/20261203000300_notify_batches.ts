import type { Knex } from 'knex';

/**
 * Bulk notifications (POST /v1/notifications/batches):
 * - `notification_batches`: one row per batch, RECEIVING while its rows are read and
 *   written in chunks, ACCEPTED once the transaction that queues their dispatch jobs has
 *   committed (a batch that never gets there is deleted with its rows). The Idempotency-Key
 *   and the SHA-256 of the request are kept on it, unique per sender and key.
 * - `notification_batch_refusals`: the rows refused, with the problem code a single POST
 *   of the same row would have had. Accepted rows are the notifications themselves.
 * - `notifications.batch_id`, `batch_row`: the batch and the row (from 1) a notification
 *   came from.
 * - `jobs.priority`: claimed in ascending order before run_at, so that a batch's jobs
 *   (priority 1) yield to everything else (0); the index in claim order lets a claim read
 *   the first due rows instead of sorting every pending one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_batches', (t) => {
    t.string('id', 36).primary();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('status', 16).notNullable(); // RECEIVING | ACCEPTED
    t.string('format', 16).notNullable(); // csv | ndjson
    t.string('strategy', 40).notNullable();
    t.string('template', 60);
    t.integer('rows_accepted').notNullable().defaultTo(0);
    t.integer('rows_refused').notNullable().defaultTo(0);
    t.string('idempotency_key', 200);
    t.string('request_hash', 64);
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.string('accepted_at', 30);
    t.unique(['sender_id', 'idempotency_key'], { indexName: 'notification_batches_sender_key' });
    t.index(['status', 'updated_at']);
  });
  await knex.schema.createTable('notification_batch_refusals', (t) => {
    t.string('batch_id', 36).notNullable().references('id').inTable('notification_batches');
    t.integer('batch_row').notNullable();
    t.string('code', 40).notNullable();
    t.string('detail', 500).notNullable();
    t.primary(['batch_id', 'batch_row']);
  });
  await knex.schema.alterTable('notifications', (t) => {
    t.string('batch_id', 36);
    t.integer('batch_row');
    t.unique(['batch_id', 'batch_row'], { indexName: 'notifications_batch_row' });
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.integer('priority').notNullable().defaultTo(0);
    t.index(['status', 'priority', 'run_at', 'id'], 'jobs_claim_order');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['status', 'priority', 'run_at', 'id'], 'jobs_claim_order');
    t.dropColumn('priority');
  });
  await knex.schema.alterTable('notifications', (t) => {
    t.dropUnique(['batch_id', 'batch_row'], 'notifications_batch_row');
    t.dropColumn('batch_row');
    t.dropColumn('batch_id');
  });
  await knex.schema.dropTable('notification_batch_refusals');
  await knex.schema.dropTable('notification_batches');
}
