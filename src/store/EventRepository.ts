import type { Knex } from 'knex';
import type { EventRecord } from './rows.js';

/** The append-only log of what happened to each message. */
export class EventRepository {
  constructor(private readonly db: Knex) {}

  async append(e: Omit<EventRecord, 'seq'>): Promise<void> {
    await this.db('events').insert({ message_id: e.messageId, type: e.type, at: e.at, data: JSON.stringify(e.data) });
  }

  async listForMessage(messageId: string): Promise<EventRecord[]> {
    const rows = await this.db('events').where({ message_id: messageId }).orderBy('seq');
    return rows.map((r: Record<string, unknown>) => ({
      seq: Number(r.seq),
      messageId: r.message_id as string,
      type: r.type as string,
      at: r.at as string,
      data: JSON.parse(r.data as string),
    }));
  }
}
