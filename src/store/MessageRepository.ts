import type { Knex } from 'knex';
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

/** A message and its documents (one aggregate), with its idempotency keys. */
export class MessageRepository {
  constructor(private readonly db: Knex) {}

  async insert(message: MessageRecord, documents: DocumentRecord[]): Promise<void> {
    await this.db('messages').insert({
      id: message.id,
      sender_id: message.senderId,
      recipient_type: message.recipientType,
      recipient_id: message.recipientId,
      subject: JSON.stringify(message.subject),
      sender_reference: message.senderReference,
      status: message.status,
      submitted_at: message.submittedAt,
      updated_at: message.updatedAt,
      expires_at: message.expiresAt,
      ebox_message_id: message.eboxMessageId,
      documents_purged_at: message.documentsPurgedAt,
    });
    if (documents.length > 0) {
      await this.db('documents').insert(
        documents.map((d) => ({
          id: d.id,
          message_id: d.messageId,
          position: d.position,
          part_name: d.partName,
          file_name: d.fileName,
          media_type: d.mediaType,
          size: d.size,
          sha256: d.sha256,
          is_main: d.isMain,
          blob_key: d.blobKey,
        })),
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
    const rows: Array<Record<string, unknown>> = await this.db('messages')
      .leftJoin('senders', 'senders.id', 'messages.sender_id')
      .leftJoin('documents', 'documents.message_id', 'messages.id')
      .where({ 'messages.id': id })
      .select(
        'messages.*',
        'senders.id as s_id',
        'senders.name as s_name',
        'senders.created_at as s_created_at',
        'senders.webhook_url as s_webhook_url',
        'senders.webhook_secret as s_webhook_secret',
        'documents.id as d_id',
        'documents.position as d_position',
        'documents.part_name as d_part_name',
        'documents.file_name as d_file_name',
        'documents.media_type as d_media_type',
        'documents.size as d_size',
        'documents.sha256 as d_sha256',
        'documents.is_main as d_is_main',
        'documents.blob_key as d_blob_key',
      )
      .orderBy('documents.position');
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
    const n = await this.db('messages')
      .where({ id, status: from })
      .update({ status: to, updated_at: extra.at ?? new Date().toISOString(), ...(extra.eboxMessageId ? { ebox_message_id: extra.eboxMessageId } : {}) });
    return n === 1;
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
    await this.db('idempotency_keys').insert({ sender_id: senderId, key, request_hash: requestHash, message_id: messageId, created_at: new Date().toISOString() });
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
