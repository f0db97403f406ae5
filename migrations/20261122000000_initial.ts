import type { Knex } from 'knex';

/**
 * The first schema: senders, messages with their documents, evidence, and the
 * hash-chained message event log. Times are stored as RFC 3339 UTC strings with milliseconds,
 * which sort correctly as text on SQLite and PostgreSQL alike.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('senders', (t) => {
    t.string('id', 36).primary();
    t.string('name', 200).notNullable();
    t.string('api_key_hash', 64).notNullable().unique();
    t.string('created_at', 30).notNullable();
  });

  await knex.schema.createTable('messages', (t) => {
    t.string('id', 36).primary();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('recipient_type', 16).notNullable();
    t.string('recipient_id', 16).notNullable();
    t.text('subject').notNullable();
    t.string('sender_reference', 200);
    t.string('status', 16).notNullable();
    t.string('submitted_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['sender_id', 'submitted_at']);
  });

  await knex.schema.createTable('documents', (t) => {
    t.string('id', 36).primary();
    t.string('message_id', 36).notNullable().references('id').inTable('messages');
    t.integer('position').notNullable();
    t.string('part_name', 100).notNullable();
    t.string('file_name', 255).notNullable();
    t.string('media_type', 255).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64).notNullable();
    t.boolean('is_main').notNullable();
    t.string('blob_key', 200).notNullable().unique();
    t.unique(['message_id', 'position']);
  });

  await knex.schema.createTable('evidence', (t) => {
    t.string('id', 36).primary();
    t.string('message_id', 36).notNullable().references('id').inTable('messages');
    t.integer('seq').notNullable();
    t.string('type', 40).notNullable();
    t.text('statement').notNullable();
    t.binary('der').notNullable();
    t.string('sha256', 64).notNullable();
    t.string('created_at', 30).notNullable();
    t.unique(['message_id', 'seq']);
  });

  // seq is assigned by the writer (head + 1, under a lock), not by a database sequence:
  // a sequence leaves gaps on rollback, and the hash chain needs consecutive rows.
  await knex.schema.createTable('events', (t) => {
    t.bigInteger('seq').primary();
    t.string('message_id', 36).notNullable().references('id').inTable('messages');
    t.string('type', 60).notNullable();
    t.string('at', 30).notNullable();
    t.text('data').notNullable();
    t.string('prev_hash', 64).notNullable();
    t.string('hash', 64).notNullable();
    t.index(['message_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('events');
  await knex.schema.dropTable('evidence');
  await knex.schema.dropTable('documents');
  await knex.schema.dropTable('messages');
  await knex.schema.dropTable('senders');
}
