import type { Knex } from 'knex';
import type { SenderRecord } from './rows.js';

/** Senders and their API keys; only the SHA-256 of a key is ever stored. */
export class SenderRepository {
  constructor(private readonly db: Knex) {}

  async insert(sender: SenderRecord, apiKeyHash: string): Promise<void> {
    await this.db('senders').insert({ id: sender.id, name: sender.name, api_key_hash: apiKeyHash, created_at: sender.createdAt });
  }

  async findByApiKeyHash(hash: string): Promise<SenderRecord | undefined> {
    const row = await this.db('senders').where({ api_key_hash: hash }).first();
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }

  async findById(id: string): Promise<SenderRecord | undefined> {
    const row = await this.db('senders').where({ id }).first();
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }
}
