import type { Knex } from 'knex';
import type { EvidenceRecord } from '../domain/records.js';

/**
 * Sealed evidence (proofs), in the order they were issued for a message. Each new proof is
 * also listed in `record_pending` until it enters an RFC 4998 tree: insert it in a transaction.
 */
export class EvidenceRepository {
  constructor(private readonly db: Knex) {}

  async insert(e: EvidenceRecord): Promise<void> {
    const der = Buffer.from(e.der.buffer, e.der.byteOffset, e.der.byteLength);
    // waits for its RFC 4998 tree (RecordTreeRepository); the leaf is the SHA-256 of the DER
    const pending = { kind: 'evidence', subject_id: e.id, digest: e.sha256, created_at: e.createdAt };
    if (this.db.client.config.client === 'pg') {
      // both rows in one statement (PostgreSQL's data-modifying WITH)
      await this.db.raw(
        `WITH e AS (INSERT INTO evidence (id, message_id, seq, type, statement, der, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?))
         INSERT INTO record_pending (kind, subject_id, digest, created_at) VALUES (?, ?, ?, ?)`,
        [e.id, e.messageId, e.seq, e.type, e.statement, der, e.sha256, e.createdAt, pending.kind, pending.subject_id, pending.digest, pending.created_at],
      );
      return;
    }
    await this.db('evidence').insert({ id: e.id, message_id: e.messageId, seq: e.seq, type: e.type, statement: e.statement, der, sha256: e.sha256, created_at: e.createdAt });
    await this.db('record_pending').insert(pending);
  }

  async listForMessage(messageId: string): Promise<EvidenceRecord[]> {
    const rows = await this.db('evidence').where({ message_id: messageId }).orderBy('seq');
    return rows.map(toEvidence);
  }

  /** The newest evidence of a message (the one the next evidence chains from). */
  async latest(messageId: string): Promise<EvidenceRecord | undefined> {
    const row = await this.db('evidence').where({ message_id: messageId }).orderBy('seq', 'desc').first();
    return row && toEvidence(row);
  }

  async find(messageId: string, id: string): Promise<EvidenceRecord | undefined> {
    const row = await this.db('evidence').where({ message_id: messageId, id }).first();
    return row && toEvidence(row);
  }
}

function toEvidence(row: Record<string, unknown>): EvidenceRecord {
  const der = row.der as Buffer;
  return {
    id: row.id as string,
    messageId: row.message_id as string,
    seq: Number(row.seq),
    type: row.type as EvidenceRecord['type'],
    statement: row.statement as string,
    der: new Uint8Array(der.buffer, der.byteOffset, der.byteLength),
    sha256: row.sha256 as string,
    createdAt: row.created_at as string,
  };
}
