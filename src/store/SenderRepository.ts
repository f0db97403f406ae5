import type { Knex } from 'knex';
import type { SenderRecord } from './rows.js';

/** Senders and their API keys; only the SHA-256 of a key is ever stored. */
export class SenderRepository {
  constructor(private readonly db: Knex) {}

  async insert(sender: SenderRecord, apiKeyHash: string): Promise<void> {
    await this.db('senders').insert({
      id: sender.id,
      name: sender.name,
      api_key_hash: apiKeyHash,
      created_at: sender.createdAt,
      webhook_url: sender.webhookUrl,
      webhook_secret: sender.webhookSecret,
    });
  }

  async findByApiKeyHash(hash: string): Promise<SenderRecord | undefined> {
    const row = await this.db('senders').where({ api_key_hash: hash }).first();
    return row && toSender(row);
  }

  async findById(id: string): Promise<SenderRecord | undefined> {
    const row = await this.db('senders').where({ id }).first();
    return row && toSender(row);
  }

  async setWebhook(id: string, url: string | null, secret: string | null): Promise<void> {
    await this.db('senders').where({ id }).update({ webhook_url: url, webhook_secret: secret });
  }
}

function toSender(row: Record<string, unknown>): SenderRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    createdAt: row.created_at as string,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    webhookSecret: (row.webhook_secret as string | null) ?? null,
  };
}
