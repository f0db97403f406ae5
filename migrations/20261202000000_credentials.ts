import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Credentials that can be rotated and revoked: a sender has several named credentials (API
 * keys, and TLS client certificates known by their SHA-256 fingerprint), each with its
 * creation, last use, optional expiry and revocation time. A sender's one API key becomes its
 * first credential, named "default".
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sender_credentials', (t) => {
    t.string('id', 36).primary();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('kind', 32).notNullable();
    t.string('name', 100).notNullable();
    t.string('secret_hash', 64).notNullable().unique();
    t.string('hint', 200);
    t.string('created_at', 30).notNullable();
    t.string('last_used_at', 30);
    t.string('expires_at', 30);
    t.string('revoked_at', 30);
    t.index(['sender_id']);
  });
  const senders: Array<{ id: string; api_key_hash: string; created_at: string }> = await knex('senders').whereNotNull('api_key_hash').select('id', 'api_key_hash', 'created_at');
  for (const s of senders) {
    await knex('sender_credentials').insert({ id: randomUUID(), sender_id: s.id, kind: 'api_key', name: 'default', secret_hash: s.api_key_hash, created_at: s.created_at });
  }
  await knex.schema.alterTable('senders', (t) => {
    t.dropUnique(['api_key_hash']);
  });
  // ALTER TABLE … DROP COLUMN in place (SQLite ≥ 3.35, PostgreSQL): knex's dropColumn would
  // rebuild the table on SQLite, which the foreign keys of messages and others refuse
  await knex.raw('ALTER TABLE senders DROP COLUMN api_key_hash');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('senders', (t) => {
    t.string('api_key_hash', 64).unique();
  });
  const keys: Array<{ sender_id: string; secret_hash: string }> = await knex('sender_credentials').where({ kind: 'api_key' }).whereNull('revoked_at').orderBy('created_at', 'desc').select('sender_id', 'secret_hash');
  // the most recent usable key of each sender is its key again
  for (const k of keys) await knex('senders').where({ id: k.sender_id }).update({ api_key_hash: k.secret_hash });
  await knex.schema.dropTable('sender_credentials');
}
