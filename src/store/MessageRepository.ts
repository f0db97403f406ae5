import type { Knex } from 'knex';
import type { DocumentRecord, MessageRecord } from './rows.js';

/** A message and its documents (one aggregate). */
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

  /** The message if it belongs to this sender; another sender's message is not found. */
  async findForSender(senderId: string, id: string): Promise<MessageRecord | undefined> {
    const row = await this.db('messages').where({ id, sender_id: senderId }).first();
    return row && toMessage(row);
  }

  async documents(messageId: string): Promise<DocumentRecord[]> {
    const rows = await this.db('documents').where({ message_id: messageId }).orderBy('position');
    return rows.map(toDocument);
  }

  /** Every blob key a document row refers to (used to find orphaned blobs). */
  async allBlobKeys(): Promise<Set<string>> {
    const rows = await this.db('documents').select('blob_key');
    return new Set(rows.map((r: { blob_key: string }) => r.blob_key));
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
