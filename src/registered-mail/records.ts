/**
 * RFC 4998 evidence records for the service's proofs and event-log checkpoints
 * (docs/evidence-records.md, "In the service").
 *
 * `enterPending` (the periodic `evidence-records` job, and the export before it reads) puts
 * every proof and checkpoint that is in no tree yet into a new tree — up to `treeMaxLeaves`
 * a tree — and has each tree's root time-stamped once. A tree is claimed first (its leaves
 * inserted and taken off `record_pending` in one transaction, claims one at a time on
 * PostgreSQL; the primary key of `record_leaves` refuses a leaf another worker entered first),
 * then stamped. A tree whose time-stamp failed (a TSA outage) is stamped by the next run of the
 * same process, one a crashed worker left by any worker a minute later: nothing is lost, no
 * leaf is in two trees, and a tree is not asked for twice while its time-stamp is under way.
 *
 * `renewDue` (the periodic `record-renewal` job) appends a time-stamp renewal (§5.2) to each
 * tree whose last token's TSA certificate expires within `renewBeforeMs`: one token per tree,
 * the same for all its leaves.
 *
 * Records are not stored: `record` builds a leaf's record from its tree's leaves and tokens.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { assembleEvidenceRecord, buildHashTree, certificateInfo, parseTimeStampToken, timeStampRenewal, type DigestTimeStamper, type HashTree } from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import type { EvidenceRecord } from '../domain/records.js';
import { constraintViolation } from '../store/constraints.js';
import type { Repositories } from '../store/Repositories.js';
import type { LeafKind, RecordTree } from '../store/RecordTreeRepository.js';

/** At most this many trees are made or stamped by one run (the next run goes on); renewals go by batches of it. */
const TREES_PER_RUN = 64;
/**
 * Leaves of the trees kept in memory for the records asked of them (the least recently used
 * go first): many small trees (a quiet service, an export across a year) or a few full ones.
 */
const CACHED_LEAVES = 1 << 18;
/** A tree another worker claimed and has not stamped after this long was left behind (a crash): any worker stamps it. */
const LEFT_BEHIND_MS = 60_000;

const hex = (u: Uint8Array) => Buffer.from(u).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

interface LoadedTree {
  tree: HashTree;
  /** `${kind}:${subjectId}` → index of the leaf in the order the tree was built from */
  index: Map<string, number>;
  leaves: Uint8Array[];
}

export interface RecordsRun {
  /** trees made in this run */
  trees: number;
  /** leaves entered in them */
  leaves: number;
  /** tokens stored (one per tree, whether made now or left unstamped before) */
  stamped: number;
}

export class EvidenceRecordService {
  private readonly cache = new Map<string, LoadedTree>();
  private cachedLeaves = 0;
  /** trees this process claimed whose time-stamp failed (a TSA outage): the next run asks again */
  private readonly unstamped = new Set<string>();

  constructor(
    private readonly store: Repositories,
    private readonly stamper: DigestTimeStamper,
    private readonly config: Pick<Config, 'records'>,
    private readonly log: Logger,
  ) {}

  /** How many proofs and checkpoints wait for a tree, or for its time-stamp (metrics). */
  async pending(): Promise<number> {
    const [waiting, unstamped] = await Promise.all([this.store.recordTrees.pendingCount(), this.store.recordTrees.unstampedLeafCount()]);
    return waiting + unstamped;
  }

  /** Seconds a client should wait before asking again for a record not yet made. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.config.records.intervalMs / 1000));
  }

  /**
   * Enters every pending proof and checkpoint into trees and time-stamps them (and any tree an
   * earlier run left unstamped). A TSA failure throws after the claim: the tree waits, stamped
   * by the next run.
   */
  async enterPending(now = new Date()): Promise<RecordsRun> {
    const run: RecordsRun = { trees: 0, leaves: 0, stamped: 0 };
    // trees this process claimed and could not stamp (a TSA outage), then those a worker left
    // behind (a crash): old enough not to be another worker's, under way
    const grace = Math.max(this.config.records.intervalMs, LEFT_BEHIND_MS);
    const left = await this.store.recordTrees.unstamped(now, TREES_PER_RUN);
    for (const tree of left.filter((t) => this.unstamped.has(t.id) || t.createdAt < new Date(now.getTime() - grace).toISOString())) {
      if (await this.stamp(tree)) run.stamped++;
    }
    for (let i = 0; i < TREES_PER_RUN; i++) {
      const tree = await this.claim();
      if (!tree) break;
      run.trees++;
      run.leaves += tree.leafCount;
      if (await this.stamp(tree)) run.stamped++;
      if (tree.leafCount < this.config.records.treeMaxLeaves) break;
    }
    if (run.trees > 0) this.log.debug(run, 'evidence records: trees made');
    return run;
  }

  /** Claims up to treeMaxLeaves pending leaves in a new tree; undefined when none is pending. */
  private async claim(): Promise<RecordTree | undefined> {
    const max = this.config.records.treeMaxLeaves;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async (tx) => {
          await tx.recordTrees.lockClaims();
          const leaves = await tx.recordTrees.pending(max);
          if (leaves.length === 0) return undefined;
          const root = buildHashTree(leaves.map((l) => unhex(l.digest))).root;
          return tx.recordTrees.createTree(leaves, hex(root));
        });
      } catch (err) {
        // another worker entered one of these leaves first: read again what is still pending (a
        // run that keeps losing leaves them to the next run)
        if (constraintViolation(err) !== 'unique') throw err;
        if (attempt >= 10) return undefined;
      }
    }
  }

  /** Time-stamps a tree's root; false when another worker stored its token first. */
  private async stamp(tree: RecordTree): Promise<boolean> {
    // taken off the list while under way: a run beside this one does not ask for it too
    this.unstamped.delete(tree.id);
    try {
      const token = await this.stamper.timestampDigest(unhex(tree.root));
      return await this.store.recordTrees.addToken({ treeId: tree.id, position: 0, token, ...tokenTimes(token) });
    } catch (err) {
      this.unstamped.add(tree.id);
      throw err;
    }
  }

  /**
   * Renews (§5.2) each tree whose last token's TSA certificate expires before `now +
   * renewBeforeMs`. A new token whose TSA certificate expires no later than the one it would
   * renew gains nothing: it is not stored, the run stops, and the operator is warned (the TSA
   * needs a new certificate).
   */
  async renewDue(now = new Date()): Promise<number> {
    const threshold = new Date(now.getTime() + this.config.records.renewBeforeMs);
    // batch after batch until none is due, within half a period (the next run goes on)
    const until = Date.now() + this.config.records.renewIntervalMs / 2;
    let renewed = 0;
    let seen = new Set<string>();
    renewing: while (Date.now() < until) {
      const due = (await this.store.recordTrees.dueForRenewal(threshold, TREES_PER_RUN)).filter((t) => !seen.has(t.id));
      if (due.length === 0) break;
      seen = new Set([...seen, ...due.map((t) => t.id)]);
      for (const tree of due) {
        const chain = await this.store.recordTrees.tokens(tree.id);
        const last = chain[chain.length - 1];
        if (!last?.tsaNotAfter || last.tsaNotAfter > threshold.toISOString()) continue; // renewed meanwhile
        const token = await this.stamper.timestampDigest(timeStampRenewal(chain.map((t) => t.token)).imprint);
        const times = tokenTimes(token);
        if (!times.tsaNotAfter || times.tsaNotAfter <= last.tsaNotAfter) {
          this.log.warn(
            { treeId: tree.id, expires: last.tsaNotAfter, tsaNotAfter: times.tsaNotAfter },
            'evidence records: the TSA certificate expires no later than the one a renewal must outlive; renewal needs a TSA with a newer certificate',
          );
          break renewing;
        }
        if (await this.store.recordTrees.addToken({ treeId: tree.id, position: chain.length, token, ...times })) renewed++;
      }
    }
    if (renewed > 0) this.log.info({ renewed }, 'evidence records: trees renewed');
    return renewed;
  }

  /** The DER EvidenceRecord of a proof or checkpoint; undefined while it is in no time-stamped tree. */
  async record(kind: LeafKind, subjectId: string): Promise<Uint8Array | undefined> {
    const leaf = await this.store.recordTrees.leaf(kind, subjectId);
    if (!leaf) return undefined;
    const tokens = await this.store.recordTrees.tokens(leaf.treeId);
    if (tokens.length === 0) return undefined;
    const loaded = await this.loadTree(leaf.treeId);
    const i = loaded.index.get(`${kind}:${subjectId}`);
    if (i === undefined) throw new Error(`tree ${leaf.treeId} does not list its leaf ${kind} ${subjectId}`);
    return assembleEvidenceRecord([{ algorithm: 'SHA-256', leaves: loaded.leaves, tree: loaded.tree, leaf: loaded.leaves[i]!, index: i, timeStamps: tokens.map((t) => t.token) }]);
  }

  /** The record of a proof, or EVIDENCE_RECORD_PENDING (404 with Retry-After). */
  async evidenceRecord(e: EvidenceRecord): Promise<Uint8Array> {
    const record = await this.record('evidence', e.id);
    if (!record) {
      throw new ServiceError('EVIDENCE_RECORD_PENDING', 'this proof is not in a time-stamped hash tree yet; ask again later', { retryAfterSeconds: this.retryAfterSeconds });
    }
    return record;
  }

  private async loadTree(id: string): Promise<LoadedTree> {
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      return cached;
    }
    const [tree, rows] = await Promise.all([this.store.recordTrees.tree(id), this.store.recordTrees.leaves(id)]);
    if (!tree) throw new Error(`no tree ${id}`);
    const leaves = rows.map((r) => unhex(r.digest));
    const built = buildHashTree(leaves);
    // the root the tree's first token covers: a leaf changed since would make records that fail
    if (hex(built.root) !== tree.root || rows.length !== tree.leafCount) throw new Error(`tree ${id}: its leaves no longer give the root that was time-stamped`);
    const loaded: LoadedTree = { tree: built, leaves, index: new Map(rows.map((r, i) => [`${r.kind}:${r.subjectId}`, i])) };
    this.cache.set(id, loaded);
    this.cachedLeaves += leaves.length;
    while (this.cachedLeaves > CACHED_LEAVES && this.cache.size > 1) {
      const [oldest, tree] = this.cache.entries().next().value!;
      this.cache.delete(oldest);
      this.cachedLeaves -= tree.leaves.length;
    }
    return loaded;
  }
}

/** A token's genTime and its TSA certificate's notAfter (when the token carries the certificate). */
function tokenTimes(token: Uint8Array): { genTime: string; tsaNotAfter: string | null } {
  const info = parseTimeStampToken(token);
  return { genTime: info.genTime.toISOString(), tsaNotAfter: info.tsaCertificate ? certificateInfo(info.tsaCertificate).notAfter.toISOString() : null };
}
