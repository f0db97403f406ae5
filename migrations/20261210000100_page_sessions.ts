import type { Knex } from 'knex';

/**
 * The pages' sign-in (docs/pages.md):
 * - `page_sessions`: a signed-in person. Only the SHA-256 of the random session id (the
 *   cookie's value) is stored, so the table does not let anyone take a session over. The
 *   person is known by the identity provider's (issuer, subject), a display name and, for a
 *   citizen, the INSZ/NISS of the ID token. Idle expiry from `last_seen_at`, absolute expiry
 *   at `expires_at`.
 * - `signin_attempts`: a sign-in under way: state, nonce and PKCE verifier stay here, known
 *   to the browser only by the SHA-256 of the attempt cookie; taken (deleted) by the callback.
 * - `sender_clerks`: the people of a sender, by (issuer, subject), mapped by the operator.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('page_sessions', (t) => {
    t.string('id_hash', 64).primary();
    t.string('issuer', 500).notNullable();
    t.string('subject', 255).notNullable();
    t.string('name', 200).notNullable();
    t.string('insz', 11);
    t.string('created_at', 30).notNullable();
    t.string('last_seen_at', 30).notNullable();
    t.string('expires_at', 30).notNullable();
    t.index(['expires_at']);
    t.index(['last_seen_at']);
  });
  await knex.schema.createTable('signin_attempts', (t) => {
    t.string('id_hash', 64).primary();
    t.string('state', 64).notNullable();
    t.string('nonce', 64).notNullable();
    t.string('code_verifier', 128).notNullable();
    t.string('next_path', 2000).notNullable();
    t.string('lang', 2).notNullable();
    t.string('expires_at', 30).notNullable();
    t.index(['expires_at']);
  });
  await knex.schema.createTable('sender_clerks', (t) => {
    t.string('issuer', 500).notNullable();
    t.string('subject', 255).notNullable();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders').onDelete('CASCADE');
    t.string('name', 200);
    t.string('created_at', 30).notNullable();
    t.primary(['issuer', 'subject']);
    t.index(['sender_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('sender_clerks');
  await knex.schema.dropTable('signin_attempts');
  await knex.schema.dropTable('page_sessions');
}
