import type { Knex } from 'knex';

/**
 * Replies and opt-outs (issue 17):
 *   notify_sms_sends        one row per SMS attempt the provider accepted: which sender's SMS
 *                           the number last received, to attribute a reply to it
 *   notify_inbound_sms      messages the phones sent back (Kannel sms-service, the HTTP
 *                           aggregator's signed inbound callback), unique per provider and its id
 *   notify_opt_outs         a number that asked for no more SMS, from one sender or from all
 *                           (scope '*'), with when and how
 *   notify_sender_overrides a sender's SMS sender ID and its own rate limit
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notify_sms_sends', (t) => {
    t.string('attempt_id', 36).primary();
    t.string('notification_id', 36).notNullable();
    t.string('sender_id', 36).notNullable();
    t.string('phone_e164', 16).notNullable();
    t.string('sent_at', 30).notNullable();
    t.index(['phone_e164', 'sent_at']);
  });

  await knex.schema.createTable('notify_inbound_sms', (t) => {
    t.increments('seq').primary();
    t.string('id', 36).notNullable().unique();
    t.string('provider', 16).notNullable();
    t.string('provider_id', 200).notNullable();
    t.string('from_e164', 16).notNullable();
    t.string('to_address', 20).notNullable();
    t.text('text').notNullable();
    t.string('received_at', 30).notNullable();
    t.string('sender_id', 36);
    t.string('notification_id', 36);
    /** OPT_OUT | OPT_OUT_ALL | OPT_IN | OPT_IN_ALL, or null for an ordinary reply */
    t.string('keyword_action', 16);
    t.string('created_at', 30).notNullable();
    t.unique(['provider', 'provider_id']);
    t.index(['sender_id', 'seq']);
  });

  await knex.schema.createTable('notify_opt_outs', (t) => {
    t.string('phone_e164', 16).notNullable();
    /** a sender id, or '*' for every sender */
    t.string('scope', 36).notNullable();
    t.string('source', 40).notNullable();
    t.string('inbound_id', 36);
    t.string('created_at', 30).notNullable();
    t.primary(['phone_e164', 'scope']);
  });

  await knex.schema.createTable('notify_sender_overrides', (t) => {
    t.string('sender_id', 36).primary().references('id').inTable('senders');
    t.string('sms_sender_id', 16);
    t.integer('rate_burst');
    t.integer('rate_per_minute');
    t.string('updated_at', 30).notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notify_sender_overrides');
  await knex.schema.dropTable('notify_opt_outs');
  await knex.schema.dropTable('notify_inbound_sms');
  await knex.schema.dropTable('notify_sms_sends');
}
