import type { Knex } from 'knex';
import type { EvidenceRecord } from '../domain/records.js';
import { execute, first, insertRows, prepared } from './Prepared.js';

/** A proof and its place in the RFC 4998 queue, written for every proof (Prepared.ts: the hot path). */
const EVIDENCE_COLUMNS = ['id', 'message_id', 'seq', 'type', 'statement', 'der', 'sha256', 'created_at'];
const PENDING_COLUMNS = ['kind', 'subject_id', 'digest', 'created_at'];
const EVIDENCE_INSERT = insertRows('evidence_insert', 'evidence', EVIDENCE_COLUMNS, 1);
const PENDING_INSERT = insertRows('record_pending_insert', 'record_pending', PENDING_COLUMNS, 1);
/** the place and digest of the proof the next one chains from (every proof after the first): not its bytes */
const EVIDENCE_CHAIN_HEAD = prepared('evidence_chain_head', 'SELECT seq, sha256 FROM evidence WHERE message_id = ? ORDER BY seq DESC LIMIT 1');
const EVIDENCE_AND_PENDING = prepared(
  'evidence_and_pending_insert',
  `WITH e AS (${EVIDENCE_INSERT.sqlite}) ${PENDING_INSERT.sqlite}`,
);

/**
 * Sealed evidence (proofs), in the order they were issued for a message. Each new proof is
 * also listed in `record_pending` until it enters an RFC 4998 tree: insert it in a transaction.
 */
export class EvidenceRepository {
  constructor(private readonly db: Knex) {}

  async insert(e: EvidenceRecord): Promise<void> {
    const der = Buffer.from(e.der.buffer, e.der.byteOffset, e.der.byteLength);
    const evidence = [e.id, e.messageId, e.seq, e.type, e.statement, der, e.sha256, e.createdAt];
    // waits for its RFC 4998 tree (RecordTreeRepository); the leaf is the SHA-256 of the DER
    const pending = ['evidence', e.id, e.sha256, e.createdAt];
    if (this.db.client.config.client === 'pg') {
      // both rows in one statement (PostgreSQL's data-modifying WITH)
      await execute(this.db, EVIDENCE_AND_PENDING, [...evidence, ...pending]);
      return;
    }
    await execute(this.db, EVIDENCE_INSERT, evidence);
    await execute(this.db, PENDING_INSERT, pending);
  }

  async listForMessage(messageId: string): Promise<EvidenceRecord[]> {
    const rows = await this.db('evidence').where({ message_id: messageId }).orderBy('seq');
    return rows.map(toEvidence);
  }

  /**
   * The newest proof of a message, as much of it as the next proof needs: its place (seq) and
   * the SHA-256 of its DER, which the next statement names (previousEvidenceSha256). Its
   * statement and bytes are not read.
   */
  async chainHead(messageId: string): Promise<{ seq: number; sha256: string } | undefined> {
    const row = await first(this.db, EVIDENCE_CHAIN_HEAD, [messageId]);
    return row && { seq: Number(row.seq), sha256: String(row.sha256) };
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
