/**
 * The built-in local e-Box: its recipient registry (citizens by INSZ, enterprises by
 * KBO, with or without an activated e-Box, each with a hashed access token) and the
 * mailboxes holding deposited messages.
 */
import type { Knex } from 'knex';
import { execute, first, prepared } from './Prepared.js';
import type { RecipientType } from '../domain/identifiers.js';
import type { MailboxRecord, RecipientRecord } from '../domain/records.js';

/** Whether a letter's recipient is reachable, asked for every letter (Prepared.ts: the hot path). */
const RECIPIENT = prepared('recipient_by_identifier', 'SELECT id, type, identifier, name, ebox_activated, created_at FROM recipients WHERE type = ? AND identifier = ? LIMIT 1');
/** A letter's deposit in the built-in e-Box, once per letter (the hot path when it is the e-Box in use). */
const MAILBOX_DEPOSIT = prepared(
  'mailbox_deposit',
  'INSERT INTO "mailbox" ("id", "deposit_id", "recipient_type", "recipient_id", "sender_name", "subject", "registered", "deposited_at", "expires_at") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("deposit_id") DO NOTHING',
);
const MAILBOX_BY_DEPOSIT = prepared('mailbox_by_deposit', 'SELECT id, deposit_id, recipient_type, recipient_id, sender_name, subject, registered, deposited_at, expires_at, first_read_at FROM mailbox WHERE deposit_id = ? LIMIT 1');

export class EboxRepository {
  constructor(private readonly db: Knex) {}

  async insertRecipient(r: RecipientRecord, tokenHash: string | null): Promise<void> {
    await this.db('recipients').insert({
      id: r.id,
      type: r.type,
      identifier: r.identifier,
      name: r.name,
      ebox_activated: r.eboxActivated,
      token_hash: tokenHash,
      created_at: r.createdAt,
    });
  }

  async updateRecipient(type: RecipientType, identifier: string, fields: { eboxActivated?: boolean; tokenHash?: string | null; name?: string | null }): Promise<boolean> {
    const patch: Record<string, unknown> = {};
    if (fields.eboxActivated !== undefined) patch.ebox_activated = fields.eboxActivated;
    if (fields.tokenHash !== undefined) patch.token_hash = fields.tokenHash;
    if (fields.name !== undefined) patch.name = fields.name;
    const n = await this.db('recipients').where({ type, identifier }).update(patch);
    return n === 1;
  }

  async findRecipient(type: RecipientType, identifier: string): Promise<RecipientRecord | undefined> {
    const row = await first(this.db, RECIPIENT, [type, identifier]);
    return row && toRecipient(row);
  }

  async findRecipientByTokenHash(hash: string): Promise<RecipientRecord | undefined> {
    const row = await this.db('recipients').where({ token_hash: hash }).first();
    return row && toRecipient(row);
  }

  /** Stores a deposit once: a second deposit with the same id returns the first. */
  async deposit(m: MailboxRecord): Promise<MailboxRecord> {
    const { changes } = await execute(this.db, MAILBOX_DEPOSIT, [m.id, m.depositId, m.recipientType, m.recipientId, m.senderName, JSON.stringify(m.subject), m.registered, m.depositedAt, m.expiresAt]);
    // written now: the row is what was given (not yet read); else the first deposit's row
    if (changes === 1) return { ...m, firstReadAt: null };
    return toMailbox((await first(this.db, MAILBOX_BY_DEPOSIT, [m.depositId]))!);
  }

  async listMailbox(type: RecipientType, identifier: string, limit: number): Promise<MailboxRecord[]> {
    const rows = await this.db('mailbox').where({ recipient_type: type, recipient_id: identifier }).orderBy('deposited_at', 'desc').limit(limit);
    return rows.map(toMailbox);
  }

  async findInMailbox(type: RecipientType, identifier: string, id: string): Promise<MailboxRecord | undefined> {
    const row = await this.db('mailbox').where({ recipient_type: type, recipient_id: identifier, id }).first();
    return row && toMailbox(row);
  }

  /** Records the first opening; true only for the call that recorded it. */
  async markRead(id: string, at: string): Promise<boolean> {
    const n = await this.db('mailbox').where({ id }).whereNull('first_read_at').update({ first_read_at: at });
    return n === 1;
  }
}

function toRecipient(row: Record<string, unknown>): RecipientRecord {
  return {
    id: row.id as string,
    type: row.type as RecipientType,
    identifier: row.identifier as string,
    name: (row.name as string | null) ?? null,
    eboxActivated: Boolean(row.ebox_activated),
    createdAt: row.created_at as string,
  };
}

function toMailbox(row: Record<string, unknown>): MailboxRecord {
  return {
    id: row.id as string,
    depositId: row.deposit_id as string,
    recipientType: row.recipient_type as RecipientType,
    recipientId: row.recipient_id as string,
    senderName: row.sender_name as string,
    subject: JSON.parse(row.subject as string),
    registered: Boolean(row.registered),
    depositedAt: row.deposited_at as string,
    expiresAt: row.expires_at as string,
    firstReadAt: (row.first_read_at as string | null) ?? null,
  };
}
