import type { Knex } from 'knex';
import { execute, insertRows, prepared } from './Prepared.js';
import type { MessageStatus } from '../domain/status.js';
import type { DocumentRecord, MessageRecord, SenderRecord } from '../domain/records.js';
import { toSender } from './SenderRepository.js';
import type { RecipientType } from '../domain/identifiers.js';

export interface MessagePage {
  items: MessageRecord[];
  /** pass back as `after` for the next page; absent on the last page */
  next?: { submittedAt: string; id: string };
}

/** What the sender's console filters a sender's messages by (all optional; all must hold). */
export interface MessageFilter {
  status?: MessageStatus;
  /** submitted at or after (ISO 8601, as stored) */
  from?: string;
  /** submitted before (ISO 8601, as stored) */
  to?: string;
  /** the sender's own reference, exactly */
  senderReference?: string;
  recipient?: { type: RecipientType; id: string };
}

/** The statements every letter runs (Prepared.ts: the hot path). */
const MESSAGE_INSERT_COLUMNS = ['id', 'sender_id', 'recipient_type', 'recipient_id', 'subject', 'sender_reference', 'status', 'submitted_at', 'updated_at', 'expires_at', 'ebox_message_id', 'documents_purged_at'];
const MESSAGE_INSERT = insertRows('message_insert', 'messages', MESSAGE_INSERT_COLUMNS, 1);
const MESSAGE_COLUMNS = MESSAGE_INSERT_COLUMNS.map((c) => `m.${c}`).join(', ');
/** every proof a job seals reads its message so (the message, its sender, its documents in one statement) */
const MESSAGE_FOR_PROOF = prepared(
  'message_for_proof',
  `SELECT ${MESSAGE_COLUMNS},
          s.id AS s_id, s.name AS s_name, s.created_at AS s_created_at, s.webhook_url AS s_webhook_url, s.webhook_secret AS s_webhook_secret,
          d.id AS d_id, d.position AS d_position, d.part_name AS d_part_name, d.file_name AS d_file_name, d.media_type AS d_media_type,
          d.size AS d_size, d.sha256 AS d_sha256, d.is_main AS d_is_main, d.blob_key AS d_blob_key
     FROM messages m LEFT JOIN senders s ON s.id = m.sender_id LEFT JOIN documents d ON d.message_id = m.id
    WHERE m.id = ? ORDER BY d.position`,
);
/** a message's status moves on (each proof of its lifecycle), if it still is `from` */
const TRANSITION = prepared('message_transition', 'UPDATE messages SET status = ?, updated_at = ? WHERE id = ? AND status = ?');
const TRANSITION_WITH_EBOX_ID = prepared('message_transition_ebox_id', 'UPDATE messages SET status = ?, updated_at = ?, ebox_message_id = ? WHERE id = ? AND status = ?');
const DOCUMENT_COLUMNS = ['id', 'message_id', 'position', 'part_name', 'file_name', 'media_type', 'size', 'sha256', 'is_main', 'blob_key'];
const IDEMPOTENCY_KEY_INSERT = insertRows('idempotency_key_insert', 'idempotency_keys', ['sender_id', 'key', 'request_hash', 'message_id', 'created_at'], 1);

/** A message and its documents (one aggregate), with its idempotency keys. */
export class MessageRepository {
  constructor(private readonly db: Knex) {}

  async insert(message: MessageRecord, documents: DocumentRecord[]): Promise<void> {
    await execute(this.db, MESSAGE_INSERT, [
      message.id,
      message.senderId,
      message.recipientType,
      message.recipientId,
      JSON.stringify(message.subject),
      message.senderReference,
      message.status,
      message.submittedAt,
      message.updatedAt,
      message.expiresAt,
      message.eboxMessageId,
      message.documentsPurgedAt,
    ]);
    if (documents.length > 0) {
      await execute(
        this.db,
        insertRows('documents_insert', 'documents', DOCUMENT_COLUMNS, documents.length),
        documents.flatMap((d) => [d.id, d.messageId, d.position, d.partName, d.fileName, d.mediaType, d.size, d.sha256, d.isMain, d.blobKey]),
      );
    }
  }

  async findById(id: string): Promise<MessageRecord | undefined> {
    const row = await this.db('messages').where({ id }).first();
    return row && toMessage(row);
  }

  /**
   * The message, its sender and its documents (in position order), in one statement: what a
   * proof's statement names. The sender is absent when its row is gone.
   */
  async findForProof(id: string): Promise<{ message: MessageRecord; sender: SenderRecord | undefined; documents: DocumentRecord[] } | undefined> {
    const { rows } = await execute(this.db, MESSAGE_FOR_PROOF, [id]);
    const first = rows[0];
    if (!first) return undefined;
    const sender = first.s_id == null ? undefined : toSender({ id: first.s_id, name: first.s_name, created_at: first.s_created_at, webhook_url: first.s_webhook_url, webhook_secret: first.s_webhook_secret });
    const documents = rows
      .filter((r) => r.d_id != null)
      .map((r) =>
        toDocument({ id: r.d_id, message_id: id, position: r.d_position, part_name: r.d_part_name, file_name: r.d_file_name, media_type: r.d_media_type, size: r.d_size, sha256: r.d_sha256, is_main: r.d_is_main, blob_key: r.d_blob_key }),
      );
    return { message: toMessage(first), sender, documents };
  }

  /** The message if it belongs to this sender; another sender's message is not found. */
  async findForSender(senderId: string, id: string): Promise<MessageRecord | undefined> {
    const row = await this.db('messages').where({ id, sender_id: senderId }).first();
    return row && toMessage(row);
  }

  /**
   * A sender's messages, newest first, keyset-paginated on (submitted_at, id).
   */
  async listForSender(senderId: string, opts: { status?: MessageStatus; since?: string; after?: { submittedAt: string; id: string }; limit: number }): Promise<MessagePage> {
    return this.searchForSender(senderId, { status: opts.status, from: opts.since }, opts);
  }

  /**
   * A sender's messages matching `filter`, newest first, keyset-paginated on
   * (submitted_at, id): a page continues after the last row of the one before, so rows
   * inserted meanwhile neither repeat nor shift a row out. The sender is the first condition
   * and no filter can replace it.
   */
  async searchForSender(senderId: string, filter: MessageFilter, opts: { after?: { submittedAt: string; id: string }; limit: number }): Promise<MessagePage> {
    const q = this.filtered(senderId, filter);
    if (opts.after) {
      const a = opts.after;
      q.andWhere((w) => w.where('submitted_at', '<', a.submittedAt).orWhere((w2) => w2.where('submitted_at', '=', a.submittedAt).andWhere('id', '<', a.id)));
    }
    const rows = await q.orderBy([{ column: 'submitted_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(opts.limit + 1);
    const items = rows.slice(0, opts.limit).map(toMessage);
    const last = items[items.length - 1];
    return rows.length > opts.limit && last ? { items, next: { submittedAt: last.submittedAt, id: last.id } } : { items };
  }

  /** The ids of a sender's messages matching `filter`, newest first, at most `limit`. */
  async idsForSender(senderId: string, filter: MessageFilter, limit: number): Promise<string[]> {
    const rows = await this.filtered(senderId, filter)
      .select('id')
      .orderBy([{ column: 'submitted_at', order: 'desc' }, { column: 'id', order: 'desc' }])
      .limit(limit);
    return rows.map((r: { id: string }) => r.id);
  }

  /** How many messages the sender submitted at or after `from` and before `to`. */
  async countForSender(senderId: string, from: string, to: string): Promise<number> {
    const row = await this.db('messages').where({ sender_id: senderId }).andWhere('submitted_at', '>=', from).andWhere('submitted_at', '<', to).count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  private filtered(senderId: string, f: MessageFilter): Knex.QueryBuilder {
    const q = this.db('messages').where({ sender_id: senderId });
    if (f.status) q.andWhere({ status: f.status });
    if (f.from) q.andWhere('submitted_at', '>=', f.from);
    if (f.to) q.andWhere('submitted_at', '<', f.to);
    if (f.senderReference !== undefined) q.andWhere({ sender_reference: f.senderReference });
    if (f.recipient) q.andWhere({ recipient_type: f.recipient.type, recipient_id: f.recipient.id });
    return q;
  }

  /** Moves the message from `from` to `to` (`at`: its updated_at, default now); false when it was not in `from` (someone else moved it). */
  async transition(id: string, from: MessageStatus, to: MessageStatus, extra: { eboxMessageId?: string; at?: string } = {}): Promise<boolean> {
    const at = extra.at ?? new Date().toISOString();
    const { changes } = extra.eboxMessageId
      ? await execute(this.db, TRANSITION_WITH_EBOX_ID, [to, at, extra.eboxMessageId, id, from])
      : await execute(this.db, TRANSITION, [to, at, id, from]);
    return changes === 1;
  }

  async documents(messageId: string): Promise<DocumentRecord[]> {
    const rows = await this.db('documents').where({ message_id: messageId }).orderBy('position');
    return rows.map(toDocument);
  }

  /** The blob keys of documents whose bytes are kept (their message not purged): what must be on disk. */
  async liveBlobKeys(): Promise<Set<string>> {
    const rows = await this.db('documents').join('messages', 'messages.id', 'documents.message_id').whereNull('messages.documents_purged_at').select('documents.blob_key');
    return new Set(rows.map((r: { blob_key: string }) => r.blob_key));
  }

  /** Of `keys`, those a document row of a message not purged refers to (the sweep's check at delete time). */
  async liveAmong(keys: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.db('documents')
        .join('messages', 'messages.id', 'documents.message_id')
        .whereNull('messages.documents_purged_at')
        .whereIn('documents.blob_key', keys.slice(i, i + 500))
        .select('documents.blob_key', 'documents.message_id');
      for (const r of rows as Array<{ blob_key: string }>) out.add(r.blob_key);
    }
    return out;
  }

  /** The messages (not purged) whose documents have these blob keys. */
  async messagesOfBlobs(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.db('documents').whereIn('blob_key', keys.slice(0, 1000)).distinct('message_id');
    return rows.map((r: { message_id: string }) => r.message_id);
  }

  /** Deposited messages whose expiry has passed without handover. */
  async expiredDeposits(now: Date, limit: number): Promise<MessageRecord[]> {
    const rows = await this.db('messages').where({ status: 'DEPOSITED' }).andWhere('expires_at', '<', now.toISOString()).orderBy('expires_at').limit(limit);
    return rows.map(toMessage);
  }

  /** Messages submitted before `cutoff` whose document bytes are still kept. */
  async dueForPurge(cutoff: Date, limit: number): Promise<MessageRecord[]> {
    const rows = await this.db('messages').whereNull('documents_purged_at').andWhere('submitted_at', '<', cutoff.toISOString()).orderBy('submitted_at').limit(limit);
    return rows.map(toMessage);
  }

  async markPurged(id: string, at: string): Promise<void> {
    await this.db('messages').where({ id }).update({ documents_purged_at: at });
  }

  async findIdempotencyKey(senderId: string, key: string): Promise<{ requestHash: string; messageId: string } | undefined> {
    const row = await this.db('idempotency_keys').where({ sender_id: senderId, key }).first();
    return row && { requestHash: row.request_hash as string, messageId: row.message_id as string };
  }

  async insertIdempotencyKey(senderId: string, key: string, requestHash: string, messageId: string): Promise<void> {
    await execute(this.db, IDEMPOTENCY_KEY_INSERT, [senderId, key, requestHash, messageId, new Date().toISOString()]);
  }

  async countByStatus(): Promise<Array<{ status: MessageStatus; count: number }>> {
    const rows: Array<{ status: string; n: number | string }> = await this.db('messages').select('status').count({ n: '*' }).groupBy('status');
    return rows.map((r) => ({ status: r.status as MessageStatus, count: Number(r.n) }));
  }
}

function toMessage(row: Record<string, unknown>): MessageRecord {
  return {
    id: row.id as string,
    senderId: row.sender_id as string,
    recipientType: row.recipient_type as MessageRecord['recipientType'],
    recipientId: row.recipient_id as string,
    subject: JSON.parse(row.subject as string),
    senderReference: (row.sender_reference as string | null) ?? null,
    status: row.status as MessageRecord['status'],
    submittedAt: row.submitted_at as string,
    updatedAt: row.updated_at as string,
    expiresAt: (row.expires_at as string | null) ?? null,
    eboxMessageId: (row.ebox_message_id as string | null) ?? null,
    documentsPurgedAt: (row.documents_purged_at as string | null) ?? null,
  };
}

function toDocument(row: Record<string, unknown>): DocumentRecord {
  return {
    id: row.id as string,
    messageId: row.message_id as string,
    position: Number(row.position),
    partName: row.part_name as string,
    fileName: row.file_name as string,
    mediaType: row.media_type as string,
    size: Number(row.size),
    sha256: row.sha256 as string,
    isMain: Boolean(row.is_main),
    blobKey: row.blob_key as string,
  };
}
