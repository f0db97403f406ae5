import type { Knex } from 'knex';

/**
 * When to send a notification: its `send_at` (a SCHEDULED notification waits for it) and
 * `valid_until` (not handed to a provider by then: EXPIRED); per attempt, the end of the
 * quiet hours it was deferred to and when it was handed to its provider (from then on it
 * can no longer be cancelled); the recipient's IANA time zone in the contact directory;
 * a sender's quiet hours ("HH:MM" to "HH:MM", the recipient's local time). An index for
 * the sender's listing by reference (the listing by time uses (sender_id, created_at)).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (t) => {
    t.string('send_at', 30);
    t.string('valid_until', 30);
    t.index(['sender_id', 'reference']);
  });
  await knex.schema.alterTable('notification_attempts', (t) => {
    t.string('deferred_until', 30);
    t.string('handed_over_at', 30);
  });
  await knex.schema.alterTable('notify_contacts', (t) => {
    t.string('time_zone', 64);
  });
  await knex.schema.alterTable('notify_sender_settings', (t) => {
    t.string('quiet_start', 5);
    t.string('quiet_end', 5);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notify_sender_settings', (t) => {
    t.dropColumn('quiet_start');
    t.dropColumn('quiet_end');
  });
  await knex.schema.alterTable('notify_contacts', (t) => {
    t.dropColumn('time_zone');
  });
  await knex.schema.alterTable('notification_attempts', (t) => {
    t.dropColumn('deferred_until');
    t.dropColumn('handed_over_at');
  });
  await knex.schema.alterTable('notifications', (t) => {
    t.dropIndex(['sender_id', 'reference']);
    t.dropColumn('send_at');
    t.dropColumn('valid_until');
  });
}
