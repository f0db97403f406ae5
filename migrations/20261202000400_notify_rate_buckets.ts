import type { Knex } from 'knex';

/**
 * The rate limit of POST /v1/notifications becomes a token bucket per sender (burst and
 * rate) instead of fixed one-minute windows: one row per sender, the tokens left and when
 * they were counted (epoch ms), updated by one upsert so that every API process on the
 * database shares it. `down` restores the windows' table (empty: windows last a minute).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notify_rate_buckets', (t) => {
    t.string('sender_id', 36).primary();
    t.double('tokens').notNullable();
    t.bigInteger('at_ms').notNullable();
    /** whether the last take found a token (read back by the same statement) */
    t.integer('granted').notNullable();
  });
  await knex.schema.dropTable('notify_rate_windows');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.createTable('notify_rate_windows', (t) => {
    t.string('sender_id', 36).notNullable();
    t.string('window_start', 30).notNullable();
    t.integer('count').notNullable();
    t.primary(['sender_id', 'window_start']);
  });
  await knex.schema.dropTable('notify_rate_buckets');
}
