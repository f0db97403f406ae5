/**
 * RFC 4998 hash trees over the service's proofs and checkpoints (docs/evidence-records.md, "In
 * the service"): the trees, their chains of archive time-stamp tokens, and the leaves. A leaf
 * is a proof (`evidence`) or an event-log checkpoint (`checkpoint`), listed in `record_pending`
 * from its insertion (EvidenceRepository, CheckpointRepository) until a tree takes it, and
 * entered in one tree at most (the primary key of `record_leaves`), whichever worker claims it
 * first.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export type LeafKind = 'evidence' | 'checkpoint';

export interface RecordLeaf {
  kind: LeafKind;
  subjectId: string;
  /** SHA-256 (hex) of the proof's DER or of the checkpoint's time-stamp token */
  digest: string;
}

export interface RecordTree {
  id: string;
  createdAt: string;
  algorithm: string;
  leafCount: number;
  /** hex */
  root: string;
}

export interface RecordToken {
  treeId: string;
  position: number;
  token: Uint8Array;
  genTime: string;
  tsaNotAfter: string | null;
}

/** Arbitrary constant naming the advisory lock that makes claims of pending leaves one at a time on PostgreSQL. */
const CLAIM_LOCK_KEY = 4_998_000_001;

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const buffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export class RecordTreeRepository {
  constructor(private readonly db: Knex) {}

  /**
   * In a transaction: waits until no other worker is claiming leaves, until this transaction
   * ends (PostgreSQL; SQLite has one writer, and the primary key refuses the rest).
   */
  async lockClaims(): Promise<void> {
    if (this.db.client.config.client === 'pg') await this.db.raw('SELECT pg_advisory_xact_lock(?)', [CLAIM_LOCK_KEY]);
  }

  /** Proofs and checkpoints in no tree yet, in the order they were made (`record_pending`). */
  async pending(limit: number): Promise<RecordLeaf[]> {
    const rows = await this.db('record_pending').orderBy('id').limit(limit).select('kind', 'subject_id', 'digest');
    return rows.map((r: Record<string, unknown>) => ({ kind: r.kind as LeafKind, subjectId: r.subject_id as string, digest: r.digest as string }));
  }

  async pendingCount(): Promise<number> {
    const row = await this.db('record_pending').count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /**
   * Enters the leaves in a new tree whose root is `root`; throws a unique-constraint violation
   * (constraints.ts) when another worker entered one of them first. Run it in a transaction.
   */
  async createTree(leaves: readonly RecordLeaf[], root: string, now = new Date()): Promise<RecordTree> {
    const tree: RecordTree = { id: randomUUID(), createdAt: now.toISOString(), algorithm: 'SHA-256', leafCount: leaves.length, root };
    await this.db('record_trees').insert({ id: tree.id, created_at: tree.createdAt, algorithm: tree.algorithm, leaf_count: tree.leafCount, root: tree.root });
    for (let i = 0; i < leaves.length; i += 500) {
      const slice = leaves.slice(i, i + 500);
      await this.db('record_leaves').insert(slice.map((l) => ({ tree_id: tree.id, kind: l.kind, subject_id: l.subjectId, digest: l.digest })));
      for (const kind of ['evidence', 'checkpoint'] as const) {
        const ids = slice.filter((l) => l.kind === kind).map((l) => l.subjectId);
        if (ids.length > 0) await this.db('record_pending').where({ kind }).whereIn('subject_id', ids).delete();
      }
    }
    return tree;
  }

  /** Stores a token at its place in a tree's chain; false when one is there already (another worker's). */
  async addToken(t: RecordToken): Promise<boolean> {
    const inserted = await this.db('record_tokens')
      .insert({ tree_id: t.treeId, position: t.position, token: buffer(t.token), gen_time: t.genTime, tsa_not_after: t.tsaNotAfter, created_at: new Date().toISOString() })
      .onConflict(['tree_id', 'position'])
      .ignore()
      .returning('position');
    return inserted.length > 0;
  }

  /** Trees with no token yet, created before `before` (a worker that crashed or met a TSA outage left them). */
  async unstamped(before: Date, limit: number): Promise<RecordTree[]> {
    const rows = await this.db('record_trees as t')
      .whereNotExists(this.db('record_tokens as k').whereRaw('k.tree_id = t.id').select(this.db.raw('1')))
      .andWhere('t.created_at', '<', before.toISOString())
      .orderBy('t.created_at')
      .limit(limit)
      .select('t.*');
    return rows.map(toTree);
  }

  /** Leaves of trees that have no token yet. */
  async unstampedLeafCount(): Promise<number> {
    const row = await this.db('record_trees as t')
      .whereNotExists(this.db('record_tokens as k').whereRaw('k.tree_id = t.id').select(this.db.raw('1')))
      .sum({ n: 't.leaf_count' })
      .first();
    return Number(row?.n ?? 0);
  }

  /** Trees whose last token's TSA certificate expires at or before `threshold`, soonest first. */
  async dueForRenewal(threshold: Date, limit: number): Promise<RecordTree[]> {
    const rows = await this.db('record_trees as t')
      .join('record_tokens as k', 'k.tree_id', 't.id')
      .whereRaw('k.position = (SELECT MAX(m.position) FROM record_tokens m WHERE m.tree_id = t.id)')
      .andWhere('k.tsa_not_after', '<=', threshold.toISOString())
      .orderBy([{ column: 'k.tsa_not_after' }, { column: 't.id' }])
      .limit(limit)
      .select('t.*');
    return rows.map(toTree);
  }

  async tree(id: string): Promise<RecordTree | undefined> {
    const row = await this.db('record_trees').where({ id }).first();
    return row && toTree(row);
  }

  /** The leaf of a proof or checkpoint, when it is in a tree. */
  async leaf(kind: LeafKind, subjectId: string): Promise<(RecordLeaf & { treeId: string }) | undefined> {
    const row = await this.db('record_leaves').where({ kind, subject_id: subjectId }).first();
    return row && { treeId: row.tree_id as string, kind: row.kind as LeafKind, subjectId: row.subject_id as string, digest: row.digest as string };
  }

  async leaves(treeId: string): Promise<RecordLeaf[]> {
    const rows = await this.db('record_leaves').where({ tree_id: treeId }).orderBy([{ column: 'kind' }, { column: 'subject_id' }]);
    return rows.map((r: Record<string, unknown>) => ({ kind: r.kind as LeafKind, subjectId: r.subject_id as string, digest: r.digest as string }));
  }

  /** A tree's chain of tokens: the time-stamp over its root first, then each renewal. */
  async tokens(treeId: string): Promise<RecordToken[]> {
    const rows = await this.db('record_tokens').where({ tree_id: treeId }).orderBy('position');
    return rows.map((r: Record<string, unknown>) => ({
      treeId: r.tree_id as string,
      position: Number(r.position),
      token: bytes(r.token as Buffer),
      genTime: r.gen_time as string,
      tsaNotAfter: (r.tsa_not_after as string | null) ?? null,
    }));
  }
}

function toTree(row: Record<string, unknown>): RecordTree {
  return { id: row.id as string, createdAt: row.created_at as string, algorithm: row.algorithm as string, leafCount: Number(row.leaf_count), root: row.root as string };
}
