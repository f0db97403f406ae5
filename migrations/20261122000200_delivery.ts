import type { Knex } from 'knex';

/**
 * Delivery to the e-Box: the built-in local e-Box (recipient registry and mailboxes),
 * message expiry and e-Box receipt, idempotency keys, sender webhooks, time-stamped
 * checkpoints of the event log, and a small key/value table for worker cursors.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.string('expires_at', 30);
    t.string('ebox_message_id', 200);
    t.string('documents_purged_at', 30);
  });

  await knex.schema.alterTable('senders', (t) => {
    t.string('webhook_url', 2000);
    t.string('webhook_secret', 100);
  });

  await knex.schema.createTable('idempotency_keys', (t) => {
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('key', 200).notNullable();
    t.string('request_hash', 64).notNullable();
    t.string('message_id', 36).notNullable().references('id').inTable('messages');
    t.string('created_at', 30).notNullable();
    t.primary(['sender_id', 'key']);
  });

  await knex.schema.createTable('recipients', (t) => {
    t.string('id', 36).primary();
    t.string('type', 16).notNullable();
    t.string('identifier', 16).notNullable();
    t.string('name', 200);
    t.boolean('ebox_activated').notNullable();
    t.string('token_hash', 64).unique();
    t.string('created_at', 30).notNullable();
    t.unique(['type', 'identifier']);
  });

  await knex.schema.createTable('mailbox', (t) => {
    t.string('id', 36).primary();
    t.string('deposit_id', 36).notNullable().unique();
    t.string('recipient_type', 16).notNullable();
    t.string('recipient_id', 16).notNullable();
    t.string('sender_name', 200).notNullable();
    t.text('subject').notNullable();
    t.boolean('registered').notNullable();
    t.string('deposited_at', 30).notNullable();
    t.string('expires_at', 30).notNullable();
    t.string('first_read_at', 30);
    t.index(['recipient_type', 'recipient_id', 'deposited_at']);
  });

  await knex.schema.createTable('checkpoints', (t) => {
    t.increments('id').primary();
    t.bigInteger('event_seq').notNullable();
    t.string('head_hash', 64).notNullable();
    t.binary('token').notNullable();
    t.string('gen_time', 30).notNullable();
    t.string('created_at', 30).notNullable();
  });

  await knex.schema.createTable('worker_state', (t) => {
    t.string('key', 100).primary();
    t.text('value').notNullable();
    t.string('updated_at', 30).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('worker_state');
  await knex.schema.dropTable('checkpoints');
  await knex.schema.dropTable('mailbox');
  await knex.schema.dropTable('recipients');
  await knex.schema.dropTable('idempotency_keys');
  await knex.schema.alterTable('senders', (t) => {
    t.dropColumn('webhook_url');
    t.dropColumn('webhook_secret');
  });
  await knex.schema.alterTable('messages', (t) => {
    t.dropColumn('expires_at');
    t.dropColumn('ebox_message_id');
    t.dropColumn('documents_purged_at');
  });
}
