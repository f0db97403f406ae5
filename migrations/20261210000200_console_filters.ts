import type { Knex } from 'knex';

/**
 * Indexes for the sender's console, which filters a sender's messages by its own reference
 * and by recipient (the listing by time and status uses (sender_id, submitted_at)).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.index(['sender_id', 'sender_reference'], 'messages_sender_reference_index');
    t.index(['sender_id', 'recipient_type', 'recipient_id'], 'messages_sender_recipient_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('messages', (t) => {
    t.dropIndex(['sender_id', 'sender_reference'], 'messages_sender_reference_index');
    t.dropIndex(['sender_id', 'recipient_type', 'recipient_id'], 'messages_sender_recipient_index');
  });
}
