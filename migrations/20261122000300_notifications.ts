import type { Knex } from 'knex';

/**
 * Short-message notifications: the contact directory (recipients' mobile numbers,
 * languages and GovApp installations with their public encryption keys), notifications
 * with their per-channel attempts and event history, senders' notification settings,
 * usage per sender and month, and the per-sender rate-limit windows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notify_contacts', (t) => {
    t.string('id', 36).primary();
    t.string('recipient_type', 16).notNullable();
    t.string('recipient_id', 16).notNullable();
    t.string('phone_e164', 16);
    t.string('language', 2).notNullable();
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.unique(['recipient_type', 'recipient_id']);
    t.index(['phone_e164']);
  });

  await knex.schema.createTable('notify_installations', (t) => {
    t.string('id', 100).primary();
    t.string('contact_id', 36).notNullable().references('id').inTable('notify_contacts').onDelete('CASCADE');
    t.string('push_token', 1000).notNullable();
    t.text('public_key').notNullable();
    t.string('key_thumbprint', 64).notNullable();
    t.string('device_name', 200);
    t.boolean('notifications_enabled').notNullable();
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['contact_id']);
  });

  await knex.schema.createTable('notifications', (t) => {
    t.string('id', 36).primary();
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('message_id', 36).references('id').inTable('messages');
    t.string('recipient_type', 16);
    t.string('recipient_id', 16);
    t.string('phone_e164', 16);
    t.string('strategy', 40).notNullable();
    t.string('status', 16).notNullable();
    t.string('reason', 500);
    t.string('language', 2).notNullable();
    t.string('title', 200);
    t.text('html');
    t.text('sms');
    t.string('sms_encoding', 8);
    t.integer('sms_parts');
    t.string('template', 60);
    t.string('reference', 200);
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.index(['sender_id', 'created_at']);
    t.index(['message_id']);
  });

  await knex.schema.createTable('notification_attempts', (t) => {
    t.string('id', 36).primary();
    t.string('notification_id', 36).notNullable().references('id').inTable('notifications');
    t.string('channel', 16).notNullable();
    t.string('status', 16).notNullable();
    t.string('reason', 500);
    t.string('provider', 40);
    t.string('provider_ref', 200);
    t.integer('units').notNullable().defaultTo(0);
    t.text('targets');
    t.string('sent_at', 30);
    t.string('delivered_at', 30);
    t.string('read_at', 30);
    t.string('created_at', 30).notNullable();
    t.string('updated_at', 30).notNullable();
    t.unique(['notification_id', 'channel']);
  });

  await knex.schema.createTable('notification_events', (t) => {
    t.increments('id').primary();
    t.string('notification_id', 36).notNullable().references('id').inTable('notifications');
    t.string('attempt_id', 36);
    t.string('at', 30).notNullable();
    t.string('kind', 16).notNullable();
    t.string('status', 16);
    t.string('channel', 16);
    t.text('detail');
    t.index(['notification_id', 'id']);
  });

  await knex.schema.createTable('notify_sender_settings', (t) => {
    t.string('sender_id', 36).primary().references('id').inTable('senders');
    t.string('default_strategy', 40).notNullable();
    t.string('updated_at', 30).notNullable();
  });

  await knex.schema.createTable('notify_usage', (t) => {
    t.string('sender_id', 36).notNullable().references('id').inTable('senders');
    t.string('month', 7).notNullable();
    t.string('channel', 16).notNullable();
    t.bigInteger('units').notNullable();
    t.bigInteger('messages').notNullable();
    t.primary(['sender_id', 'month', 'channel']);
  });

  await knex.schema.createTable('notify_rate_windows', (t) => {
    t.string('sender_id', 36).notNullable();
    t.string('window_start', 30).notNullable();
    t.integer('count').notNullable();
    t.primary(['sender_id', 'window_start']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notify_rate_windows');
  await knex.schema.dropTable('notify_usage');
  await knex.schema.dropTable('notify_sender_settings');
  await knex.schema.dropTable('notification_events');
  await knex.schema.dropTable('notification_attempts');
  await knex.schema.dropTable('notifications');
  await knex.schema.dropTable('notify_installations');
  await knex.schema.dropTable('notify_contacts');
}
