/**
 * Notification usage per sender, month (UTC, "YYYY-MM") and channel — SMS parts and
 * pushes, plus the number of notifications they belong to — and the per-sender token
 * buckets of the rate limit. Both change by one upsert (INSERT … ON CONFLICT DO UPDATE),
 * which SQLite and PostgreSQL run atomically, so several API processes share them.
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

  /**
   * Takes one token from the sender's bucket if it holds one, after refilling it for the
   * time since it was last counted (`ratePerMs` tokens a millisecond, at most `burst`). One
   * upsert, atomic on SQLite and PostgreSQL: API processes sharing the database share the
   * bucket. Returns whether a token was taken and the tokens left (fractional).
   */
  async takeToken(senderId: string, burst: number, ratePerMs: number, nowMs: number): Promise<{ granted: boolean; tokens: number }> {
    const least = this.db.client.config.client === 'pg' ? 'LEAST' : 'MIN';
    const greatest = this.db.client.config.client === 'pg' ? 'GREATEST' : 'MAX';
    // the bucket refilled up to now (a clock that went back refills nothing)
    const refilled = `${least}(CAST(? AS DOUBLE PRECISION), notify_rate_buckets.tokens + ${greatest}(CAST(? AS BIGINT) - notify_rate_buckets.at_ms, 0) * CAST(? AS DOUBLE PRECISION))`;
    const args = [burst, nowMs, ratePerMs];
    const rows: Array<{ tokens: number | string; granted: number | string }> = await this.db('notify_rate_buckets')
      .insert({ sender_id: senderId, tokens: burst - 1, at_ms: nowMs, granted: 1 })
      .onConflict('sender_id')
      .merge({
        tokens: this.db.raw(`CASE WHEN ${refilled} >= 1 THEN ${refilled} - 1 ELSE ${refilled} END`, [...args, ...args, ...args]),
        granted: this.db.raw(`CASE WHEN ${refilled} >= 1 THEN 1 ELSE 0 END`, args),
        at_ms: this.db.raw(`${greatest}(notify_rate_buckets.at_ms, CAST(? AS BIGINT))`, [nowMs]),
      })
      .returning(['tokens', 'granted']);
    return { granted: Number(rows[0]!.granted) === 1, tokens: Number(rows[0]!.tokens) };
  }
}
