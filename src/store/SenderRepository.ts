import type { Knex } from 'knex';
import { first, prepared } from './Prepared.js';
import type { CredentialKind, CredentialRecord, SenderRecord } from '../domain/records.js';

/** Every API request authenticates with it (Prepared.ts: the hot path). */
const CREDENTIAL_WITH_SENDER = prepared(
  'credential_with_sender',
  `SELECT c.id, c.sender_id, c.kind, c.name, c.hint, c.created_at, c.last_used_at, c.expires_at, c.revoked_at,
          s.id AS s_id, s.name AS s_name, s.created_at AS s_created_at, s.webhook_url AS s_webhook_url, s.webhook_secret AS s_webhook_secret
     FROM sender_credentials c LEFT JOIN senders s ON s.id = c.sender_id
    WHERE c.kind = ? AND c.secret_hash = ? LIMIT 1`,
);

/** Senders and their credentials; of an API key only its SHA-256 is ever stored, of a client certificate its fingerprint. */
export class SenderRepository {
  constructor(private readonly db: Knex) {}

  async insert(sender: SenderRecord): Promise<void> {
    await this.db('senders').insert({
      id: sender.id,
      name: sender.name,
      created_at: sender.createdAt,
      webhook_url: sender.webhookUrl,
      webhook_secret: sender.webhookSecret,
    });
  }

  async findById(id: string): Promise<SenderRecord | undefined> {
    const row = await this.db('senders').where({ id }).first();
    return row && toSender(row);
  }

  async list(limit: number): Promise<SenderRecord[]> {
    return (await this.db('senders').orderBy('created_at').orderBy('id').limit(limit)).map(toSender);
  }

  async setWebhook(id: string, url: string | null, secret: string | null): Promise<void> {
    await this.db('senders').where({ id }).update({ webhook_url: url, webhook_secret: secret });
  }

  async insertCredential(c: CredentialRecord, secretHash: string): Promise<void> {
    await this.db('sender_credentials').insert({
      id: c.id,
      sender_id: c.senderId,
      kind: c.kind,
      name: c.name,
      secret_hash: secretHash,
      hint: c.hint,
      created_at: c.createdAt,
      last_used_at: c.lastUsedAt,
      expires_at: c.expiresAt,
      revoked_at: c.revokedAt,
    });
  }

  /** The credential with this secret hash (revoked and expired ones included: the caller says why it refuses). */
  async findCredentialByHash(kind: CredentialKind, secretHash: string): Promise<CredentialRecord | undefined> {
    const row = await this.db('sender_credentials').where({ kind, secret_hash: secretHash }).first();
    return row && toCredential(row);
  }

  /**
   * The credential with this secret hash and its sender, in one statement (every API request
   * authenticates so): the credential as `findCredentialByHash` finds it, the sender absent
   * when its row is gone.
   */
  async findCredentialWithSender(kind: CredentialKind, secretHash: string): Promise<{ credential: CredentialRecord; sender: SenderRecord | undefined } | undefined> {
    const row = await first(this.db, CREDENTIAL_WITH_SENDER, [kind, secretHash]);
    if (!row) return undefined;
    const sender = row.s_id == null ? undefined : toSender({ id: row.s_id, name: row.s_name, created_at: row.s_created_at, webhook_url: row.s_webhook_url, webhook_secret: row.s_webhook_secret });
    return { credential: toCredential(row), sender };
  }

  async findCredential(senderId: string, id: string): Promise<CredentialRecord | undefined> {
    const row = await this.db('sender_credentials').where({ sender_id: senderId, id }).first();
    return row && toCredential(row);
  }

  async listCredentials(senderId: string): Promise<CredentialRecord[]> {
    return (await this.db('sender_credentials').where({ sender_id: senderId }).orderBy('created_at').orderBy('id')).map(toCredential);
  }

  /** Sets `revoked_at` (kept when already revoked); false when there is no such credential. */
  async revokeCredential(senderId: string, id: string, at: string): Promise<boolean> {
    const n = await this.db('sender_credentials').where({ sender_id: senderId, id }).update({ revoked_at: this.db.raw('COALESCE(revoked_at, ?)', [at]) });
    return n === 1;
  }

  /** Brings the expiry forward to `at` (never later than it was). */
  async expireCredential(senderId: string, id: string, at: string): Promise<void> {
    await this.db('sender_credentials')
      .where({ sender_id: senderId, id })
      .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', at))
      .update({ expires_at: at });
  }

  async touchCredential(id: string, at: string): Promise<void> {
    await this.db('sender_credentials').where({ id }).update({ last_used_at: at });
  }
}

export function toSender(row: Record<string, unknown>): SenderRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    createdAt: row.created_at as string,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    webhookSecret: (row.webhook_secret as string | null) ?? null,
  };
}

function toCredential(row: Record<string, unknown>): CredentialRecord {
  return {
    id: row.id as string,
    senderId: row.sender_id as string,
    kind: row.kind as CredentialKind,
    name: row.name as string,
    hint: (row.hint as string | null) ?? null,
    createdAt: row.created_at as string,
    lastUsedAt: (row.last_used_at as string | null) ?? null,
    expiresAt: (row.expires_at as string | null) ?? null,
    revokedAt: (row.revoked_at as string | null) ?? null,
  };
}
