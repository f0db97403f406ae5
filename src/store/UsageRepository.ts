/**
 * Notification usage per sender, month (UTC, "YYYY-MM") and channel — SMS parts and
 * pushes, plus the number of notifications they belong to — and the per-sender rate-limit
 * windows. Both are counters incremented by one upsert (INSERT … ON CONFLICT DO UPDATE),
 * which SQLite and PostgreSQL run atomically, so several API processes share the counts.
 */
import type { Knex } from 'knex';

export interface UsageRow {
  senderId: string;
  month: string;
  channel: string;
  units: number;
  messages: number;
}

export class UsageRepository {
  constructor(private readonly db: Knex) {}

  async add(senderId: string, month: string, channel: string, units: number): Promise<void> {
    await this.db('notify_usage')
      .insert({ sender_id: senderId, month, channel, units, messages: 1 })
      .onConflict(['sender_id', 'month', 'channel'])
      .merge({ units: this.db.raw('notify_usage.units + ?', [units]), messages: this.db.raw('notify_usage.messages + 1') });
  }

  async report(month: string, senderId?: string): Promise<UsageRow[]> {
    const q = this.db('notify_usage').where({ month }).orderBy(['sender_id', 'channel']);
    if (senderId) q.andWhere({ sender_id: senderId });
    return (await q).map((r: Record<string, unknown>) => ({ senderId: r.sender_id as string, month: r.month as string, channel: r.channel as string, units: Number(r.units), messages: Number(r.messages) }));
  }

  /** Counts one request in the sender's window; returns the count so far (this one included). */
  async hitRateWindow(senderId: string, windowStart: string): Promise<number> {
    const rows: Array<{ count: number | string }> = await this.db('notify_rate_windows')
      .insert({ sender_id: senderId, window_start: windowStart, count: 1 })
      .onConflict(['sender_id', 'window_start'])
      .merge({ count: this.db.raw('notify_rate_windows.count + 1') })
      .returning('count');
    return Number(rows[0]!.count);
  }

  async pruneRateWindows(senderId: string, before: string): Promise<void> {
    await this.db('notify_rate_windows').where({ sender_id: senderId }).andWhere('window_start', '<', before).delete();
  }
}
