/**
 * RFC 4998 hash trees over the service's proofs and checkpoints (docs/evidence-records.md, "In
 * the service"): the trees, their chains of archive time-stamp tokens, and the leaves. A leaf
 * is a proof (`evidence`) or an event-log checkpoint (`checkpoint`), listed in `record_pending`
 * from its insertion (EvidenceRepository, CheckpointRepository) until a tree takes it. A
 * subject is a leaf of one tree per ArchiveTimeStampChain of its record: chain 1 the tree it
 * first entered, 2, 3, … each hash-tree renewal; the primary key of `record_leaves` (kind,
 * subject_id, chain) lets one worker only enter a subject's chain.
 */
import { newRowId } from '../domain/RowId.js';
import type { Knex } from 'knex';

export type LeafKind = 'evidence' | 'checkpoint';

export interface RecordLeaf {
  kind: LeafKind;
  subjectId: string;
  /** hash (hex) of the proof's DER or of the checkpoint's time-stamp token: SHA-256 in `record_pending`, the tree's algorithm in a tree */
  digest: string;
}

export type TreeAlgorithm = 'SHA-256' | 'SHA-384' | 'SHA-512';

export interface RecordTree {
  id: string;
  createdAt: string;
  /** the hash of its leaves, nodes, renewals and time-stamps */
  algorithm: TreeAlgorithm;
  leafCount: number;
  /** hex */
  root: string;
  /** set once every leaf has a later chain: no more time-stamp renewals */
  closedAt: string | null;
}

/** A subject's leaf in the tree of one chain of its record. */
export interface ChainLeaf {
  treeId: string;
  kind: LeafKind;
  subjectId: string;
  /** 1: the first tree; 2, 3, …: hash-tree renewals */
  chain: number;
  /** the leaf (hex) in the tree's algorithm: the data's hash (chain 1), the hash-tree renewal leaf (later chains) */
  digest: string;
  /** chains after the first: how many tokens of the previous chain's tree this leaf covers */
  priorTokens: number | null;
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
  async createTree(leaves: readonly RecordLeaf[], root: string, algorithm: TreeAlgorithm = 'SHA-256', now = new Date()): Promise<RecordTree> {
    const tree = await this.insertTree(leaves.length, root, algorithm, now);
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

  private async insertTree(leafCount: number, root: string, algorithm: TreeAlgorithm, now: Date): Promise<RecordTree> {
    const tree: RecordTree = { id: newRowId(), createdAt: now.toISOString(), algorithm, leafCount, root, closedAt: null };
    await this.db('record_trees').insert({ id: tree.id, created_at: tree.createdAt, algorithm: tree.algorithm, leaf_count: tree.leafCount, root: tree.root });
    return tree;
  }

  /**
   * A hash-tree renewal tree: each leaf the next chain of its subject (`chain`, `priorTokens`
   * given); then each of `previous` (the trees of the chains renewed) whose every leaf has a
   * later chain is closed. Throws a unique-constraint violation when another worker entered one
   * of these chains first. Run it in a transaction.
   */
  async createRenewalTree(leaves: readonly Omit<ChainLeaf, 'treeId'>[], root: string, algorithm: TreeAlgorithm, previous: readonly string[], now = new Date()): Promise<RecordTree> {
    const tree = await this.insertTree(leaves.length, root, algorithm, now);
    for (let i = 0; i < leaves.length; i += 500) {
      await this.db('record_leaves').insert(
        leaves.slice(i, i + 500).map((l) => ({ tree_id: tree.id, kind: l.kind, subject_id: l.subjectId, chain: l.chain, digest: l.digest, prior_tokens: l.priorTokens })),
      );
    }
    for (const id of previous) {
      const open = await this.db('record_leaves as l')
        .where('l.tree_id', id)
        .whereNotExists(this.db('record_leaves as n').whereRaw('n.kind = l.kind AND n.subject_id = l.subject_id AND n.chain > l.chain').select(this.db.raw('1')))
        .first(this.db.raw('1 AS open'));
      if (!open) await this.db('record_trees').where({ id }).update({ closed_at: now.toISOString() });
    }
    return tree;
  }

  /**
   * Leaves to renew into `algorithm`: the last chain of subjects whose last chain's tree is in
   * another algorithm, time-stamped and not closed; whole trees, oldest first, at most `limit`
   * leaves (a tree larger than `limit` gives its first `limit`).
   */
  async renewable(algorithm: TreeAlgorithm, limit: number): Promise<ChainLeaf[]> {
    const others = (['SHA-256', 'SHA-384', 'SHA-512'] as const).filter((a) => a !== algorithm);
    const out: ChainLeaf[] = [];
    for (let after: { createdAt: string; id: string } | undefined; out.length < limit; ) {
      let q = this.db('record_trees as t')
        .whereNull('t.closed_at')
        .whereIn('t.algorithm', others)
        .whereExists(this.db('record_tokens as k').whereRaw('k.tree_id = t.id').select(this.db.raw('1')));
      if (after) {
        const a = after;
        q = q.andWhere((w) => w.where('t.created_at', '>', a.createdAt).orWhere((x) => x.where('t.created_at', a.createdAt).andWhere('t.id', '>', a.id)));
      }
      const trees = (await q.orderBy([{ column: 't.created_at' }, { column: 't.id' }]).limit(16).select('t.*')).map(toTree);
      if (trees.length === 0) break;
      for (const t of trees) {
        const rows = await this.db('record_leaves as l')
          .where('l.tree_id', t.id)
          .whereNotExists(this.db('record_leaves as n').whereRaw('n.kind = l.kind AND n.subject_id = l.subject_id AND n.chain > l.chain').select(this.db.raw('1')))
          .orderBy([{ column: 'l.kind' }, { column: 'l.subject_id' }])
          .select('l.*');
        if (out.length > 0 && out.length + rows.length > limit) return out;
        out.push(...rows.slice(0, limit - out.length).map(toChainLeaf));
        if (out.length >= limit) return out;
      }
      const last = trees[trees.length - 1]!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    return out;
  }

  /** The proofs' DER and the checkpoints' tokens: what the leaves are the hash of. */
  async subjectData(kind: LeafKind, ids: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      const rows =
        kind === 'evidence'
          ? await this.db('evidence').whereIn('id', slice).select('id', 'der as data')
          : await this.db('checkpoints').whereIn('id', slice.map(Number)).select('id', 'token as data');
      for (const r of rows as { id: string | number; data: Buffer }[]) out.set(String(r.id), bytes(r.data));
    }
    return out;
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

  /** Proofs and checkpoints whose first tree has no token yet (hash-tree renewal trees not counted: their leaves have a record). */
  async unstampedLeafCount(): Promise<number> {
    const row = await this.db('record_trees as t')
      .join('record_leaves as l', 'l.tree_id', 't.id')
      .where('l.chain', 1)
      .whereNotExists(this.db('record_tokens as k').whereRaw('k.tree_id = t.id').select(this.db.raw('1')))
      .count({ n: '*' })
      .first();
    return Number(row?.n ?? 0);
  }

  /** Trees not closed whose last token's TSA certificate expires at or before `threshold`, soonest first. */
  async dueForRenewal(threshold: Date, limit: number): Promise<RecordTree[]> {
    const rows = await this.db('record_trees as t')
      .join('record_tokens as k', 'k.tree_id', 't.id')
      .whereNull('t.closed_at')
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

  /** The leaves of a proof or checkpoint, one per chain of its record, chain 1 first (none while it is in no tree). */
  async chains(kind: LeafKind, subjectId: string): Promise<ChainLeaf[]> {
    const rows = await this.db('record_leaves').where({ kind, subject_id: subjectId }).orderBy('chain');
    return rows.map(toChainLeaf);
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
  return {
    id: row.id as string,
    createdAt: row.created_at as string,
    algorithm: row.algorithm as TreeAlgorithm,
    leafCount: Number(row.leaf_count),
    root: row.root as string,
    closedAt: (row.closed_at as string | null) ?? null,
  };
}

function toChainLeaf(r: Record<string, unknown>): ChainLeaf {
  return {
    treeId: r.tree_id as string,
    kind: r.kind as LeafKind,
    subjectId: r.subject_id as string,
    chain: Number(r.chain),
    digest: r.digest as string,
    priorTokens: r.prior_tokens === null || r.prior_tokens === undefined ? null : Number(r.prior_tokens),
  };
}
