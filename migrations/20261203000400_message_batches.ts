import type { Knex } from 'knex';

/**
 * Batches of registered messages (POST /v1/messages/batches): one row per batch, with its
 * Idempotency-Key (unique per sender; NULL without one) and the SHA-256 of the canonical
 * request, and one row per manifest row: the message it made, or the problem that refused it.
 * Written in the transaction that writes the batch's messages: a batch exists only once
 * every message it accepted does.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('message_batches', (t) => {
    t.string('id', 36).primary();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('idempotency_key', 200);
    t.string('request_hash', 64).notNullable();
    t.string('form', 16).notNullable();
    t.integer('row_count').notNullable();
    t.integer('accepted_count').notNullable();
    t.integer('refused_count').notNullable();
    t.string('submitted_at', 30).notNullable();
    t.unique(['sender_id', 'idempotency_key'], { indexName: 'message_batches_sender_key' });
    t.index(['sender_id', 'submitted_at']);
  });
  await knex.schema.createTable('message_batch_rows', (t) => {
    t.string('batch_id', 36).notNullable().references('id').inTable('message_batches');
    t.integer('row').notNullable();
    t.string('message_id', 36).references('id').inTable('messages');
    t.string('sender_reference', 200);
    t.string('code', 64);
    t.text('detail');
    t.text('extensions');
    t.primary(['batch_id', 'row']);
    t.index(['message_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('message_batch_rows');
  await knex.schema.dropTable('message_batches');
}
