import type { Knex } from 'knex';

/**
 * Idempotency-Key of POST /v1/notifications: per sender and key, the SHA-256 of the
 * canonical request (RFC 8785) and the notification it made. Written in the transaction
 * that creates the notification; the unique index makes a second request with the same
 * key fail there, and it is then answered as a replay (or 409 for another request).
 * Separate from the keys of /v1/messages (idempotency_keys): each API has its own keys.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_idempotency_keys', (t) => {
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('key', 200).notNullable();
    t.string('request_hash', 64).notNullable();
    t.string('notification_id', 36).notNullable().references('id').inTable('notifications');
    t.string('created_at', 30).notNullable();
    t.unique(['sender_id', 'key'], { indexName: 'notification_idempotency_keys_sender_key' });
    t.index(['notification_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notification_idempotency_keys');
}
