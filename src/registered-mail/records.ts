/**
 * RFC 4998 evidence records for the service's proofs and event-log checkpoints
 * (docs/evidence-records.md, "In the service").
 *
 * `enterPending` (the periodic `evidence-records` job, and the export before it reads) puts
 * every proof and checkpoint that is in no tree yet into a new tree — up to `treeMaxLeaves`
 * a tree, in the algorithm `hashAlgorithm` — and has each tree's root time-stamped once. A
 * tree is claimed first (its leaves inserted and taken off `record_pending` in one
 * transaction, claims one at a time on PostgreSQL; the primary key of `record_leaves` refuses
 * a leaf another worker entered first), then stamped. A tree whose time-stamp failed (a TSA
 * outage) is stamped by the next run of the same process, one a crashed worker left by any
 * worker a minute later: nothing is lost, no leaf is in two trees, and a tree is not asked for
 * twice while its time-stamp is under way.
 *
 * `renew` (the periodic `record-renewal` job) first renews the hash tree (§5.2) of every record
 * whose last chain is in another algorithm than `hashAlgorithm`: for a batch of old trees'
 * leaves, one new tree over their hash-tree renewal leaves (the data with its current record),
 * one token, claimed like a new tree (the primary key refuses a subject's chain another
 * worker entered first). The new chain covers the previous one as it was then (its token count
 * is stored with the leaf); a tree whose every leaf has a later chain is closed. Then it
 * appends a time-stamp renewal (§5.2) to each tree not closed whose last token's TSA
 * certificate expires within `renewBeforeMs`: one token per tree, the same for all its leaves.
 *
 * Records are not stored: `record` builds a leaf's record from its trees' leaves and tokens,
 * one chain per tree the subject is a leaf of.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { assembleEvidenceRecord, buildHashTree, certificateInfo, hashTreeRenewalLeaf, parseTimeStampToken, timeStampRenewal, type DigestTimeStamper, type HashTree, type StoredChain } from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import type { EvidenceRecord } from '../domain/records.js';
import { constraintViolation } from '../store/constraints.js';
import type { Repositories } from '../store/Repositories.js';
import type { ChainLeaf, LeafKind, RecordLeaf, RecordToken, RecordTree, TreeAlgorithm } from '../store/RecordTreeRepository.js';

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
const NODE_HASH: Record<TreeAlgorithm, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const hashHex = (algorithm: TreeAlgorithm, data: Uint8Array) => createHash(NODE_HASH[algorithm]).update(data).digest('hex');

interface LoadedTree {
  tree: HashTree;
  algorithm: TreeAlgorithm;
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

export interface RenewalRun {
  /** hash-tree renewal trees made (one token each) */
  hashTrees: number;
  /** records given a new chain in them */
  rehashed: number;
  /** trees given a time-stamp renewal */
  timeStamps: number;
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
    const run: RecordsRun = { trees: 0, leaves: 0, stamped: await this.stampLeft(now) };
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

  /**
   * Stamps the trees this process claimed and could not stamp (a TSA outage), then those a
   * worker left behind (a crash): old enough not to be another worker's, under way.
   */
  private async stampLeft(now: Date): Promise<number> {
    let stamped = 0;
    const grace = Math.max(this.config.records.intervalMs, LEFT_BEHIND_MS);
    const left = await this.store.recordTrees.unstamped(now, TREES_PER_RUN);
    for (const tree of left.filter((t) => this.unstamped.has(t.id) || t.createdAt < new Date(now.getTime() - grace).toISOString())) {
      if (await this.stamp(tree)) stamped++;
    }
    return stamped;
  }

  /** Claims up to treeMaxLeaves pending leaves in a new tree; undefined when none is pending. */
  private async claim(): Promise<RecordTree | undefined> {
    const max = this.config.records.treeMaxLeaves;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.transaction(async (tx) => {
          await tx.recordTrees.lockClaims();
          const pending = await tx.recordTrees.pending(max);
          if (pending.length === 0) return undefined;
          const algorithm = this.config.records.hashAlgorithm;
          // record_pending holds SHA-256: another algorithm hashes the proofs and tokens anew
          const leaves = algorithm === 'SHA-256' ? pending : await this.rehashed(tx, pending, algorithm);
          const root = buildHashTree(leaves.map((l) => unhex(l.digest)), algorithm).root;
          return tx.recordTrees.createTree(leaves, hex(root), algorithm);
        });
      } catch (err) {
        // another worker entered one of these leaves first: read again what is still pending (a
        // run that keeps losing leaves them to the next run)
        if (constraintViolation(err) !== 'unique') throw err;
        if (attempt >= 10) return undefined;
      }
    }
  }

  /** The leaves with their digest in `algorithm`, from the proofs' DER and the checkpoints' tokens. */
  private async rehashed(tx: Repositories, leaves: readonly RecordLeaf[], algorithm: TreeAlgorithm): Promise<RecordLeaf[]> {
    const data = new Map<string, Uint8Array>();
    for (const kind of ['evidence', 'checkpoint'] as const) {
      const found = await tx.recordTrees.subjectData(kind, leaves.filter((l) => l.kind === kind).map((l) => l.subjectId));
      for (const [id, bytes] of found) data.set(`${kind}:${id}`, bytes);
    }
    return leaves.map((l) => {
      const bytes = data.get(`${l.kind}:${l.subjectId}`);
      if (!bytes) throw new Error(`no ${l.kind} ${l.subjectId} to enter into a tree`);
      return { ...l, digest: hashHex(algorithm, bytes) };
    });
  }

  /** Time-stamps a tree's root; false when another worker stored its token first. */
  private async stamp(tree: RecordTree): Promise<boolean> {
    // taken off the list while under way: a run beside this one does not ask for it too
    this.unstamped.delete(tree.id);
    try {
      const token = await this.stamper.timestampDigest(unhex(tree.root), tree.algorithm);
      return await this.store.recordTrees.addToken({ treeId: tree.id, position: 0, token, ...tokenTimes(token) });
    } catch (err) {
      this.unstamped.add(tree.id);
      throw err;
    }
  }

  /**
   * The `record-renewal` job: hash-tree renewals into `hashAlgorithm`, then time-stamp renewals.
   * A failed hash-tree renewal (a TSA outage, a proof that no longer gives its leaf) does not
   * hold back the time-stamp renewals: they run, then the run fails with its error (retried).
   */
  async renew(now = new Date()): Promise<RenewalRun> {
    let failure: unknown;
    const rehash = await this.renewHashTrees(now).catch((err: unknown) => {
      failure = err;
      return { hashTrees: 0, rehashed: 0 };
    });
    const timeStamps = await this.renewDue(now);
    if (failure !== undefined) throw failure;
    return { ...rehash, timeStamps };
  }

  /**
   * Hash-tree renewal (§5.2): every record whose last chain is in another algorithm than
   * `hashAlgorithm` gets a new chain in it, batch after batch of up to treeMaxLeaves leaves (whole
   * old trees, oldest first), one tree and one token a batch, until none is left or half the
   * renewal period has passed (the next run goes on). A batch is claimed before it is stamped: a
   * TSA failure throws after the claim, and the tree is stamped as a new tree left unstamped is.
   */
  async renewHashTrees(now = new Date()): Promise<{ hashTrees: number; rehashed: number }> {
    const algorithm = this.config.records.hashAlgorithm;
    const until = Date.now() + this.config.records.renewIntervalMs / 2;
    const run = { hashTrees: 0, rehashed: 0 };
    await this.stampLeft(now);
    for (let i = 0; i < TREES_PER_RUN && (i === 0 || Date.now() < until); i++) {
      const tree = await this.claimRenewal(algorithm);
      if (!tree) break;
      run.hashTrees++;
      run.rehashed += tree.leafCount;
      await this.stamp(tree);
    }
    if (run.hashTrees > 0) this.log.info({ ...run, algorithm }, 'evidence records: hash trees renewed');
    return run;
  }

  /**
   * Claims a hash-tree renewal tree over the next renewable leaves; undefined when none is left.
   * The leaves are computed outside the transaction; entering them is refused (and the batch read
   * again) when another worker entered one of these chains first.
   */
  private async claimRenewal(algorithm: TreeAlgorithm): Promise<RecordTree | undefined> {
    for (let attempt = 0; ; attempt++) {
      const rows = await this.store.recordTrees.renewable(algorithm, this.config.records.treeMaxLeaves);
      if (rows.length === 0) return undefined;
      const leaves = await this.renewalLeaves(rows, algorithm);
      const root = hex(buildHashTree(leaves.map((l) => unhex(l.digest)), algorithm).root);
      const previous = [...new Set(rows.map((r) => r.treeId))];
      try {
        return await this.store.transaction(async (tx) => {
          await tx.recordTrees.lockClaims();
          return tx.recordTrees.createRenewalTree(leaves, root, algorithm, previous);
        });
      } catch (err) {
        if (constraintViolation(err) !== 'unique') throw err;
        if (attempt >= 10) return undefined;
      }
    }
  }

  /** Each row's next chain: the hash-tree renewal leaf of its data with the record it has now. */
  private async renewalLeaves(rows: readonly ChainLeaf[], algorithm: TreeAlgorithm): Promise<Omit<ChainLeaf, 'treeId'>[]> {
    const tokens = new Map<string, RecordToken[]>();
    const tokensOf = async (treeId: string) => {
      let t = tokens.get(treeId);
      if (!t) tokens.set(treeId, (t = await this.store.recordTrees.tokens(treeId)));
      return t;
    };
    const out: Omit<ChainLeaf, 'treeId'>[] = [];
    for (const kind of ['evidence', 'checkpoint'] as const) {
      const ofKind = rows.filter((r) => r.kind === kind);
      for (let i = 0; i < ofKind.length; i += 500) {
        const slice = ofKind.slice(i, i + 500);
        const data = await this.store.recordTrees.subjectData(kind, slice.map((r) => r.subjectId));
        for (const row of slice) {
          const bytes = data.get(row.subjectId);
          if (!bytes) throw new Error(`no ${kind} ${row.subjectId} to renew its record`);
          const rowsOfSubject = row.chain === 1 ? [row] : (await this.store.recordTrees.chains(kind, row.subjectId)).filter((c) => c.chain <= row.chain);
          const chains = await this.storedChains(rowsOfSubject, tokensOf);
          if (chains.length !== row.chain) throw new Error(`${kind} ${row.subjectId}: chain ${row.chain} has no time-stamp`);
          const first = chains[0]!;
          if (hashHex(first.algorithm as TreeAlgorithm, bytes) !== hex(first.leaf!)) throw new Error(`${kind} ${row.subjectId}: its data is no longer the leaf its record was made for`);
          const leaf = hashTreeRenewalLeaf(bytes, assembleEvidenceRecord(chains), algorithm);
          out.push({ kind, subjectId: row.subjectId, chain: row.chain + 1, digest: hex(leaf), priorTokens: chains[chains.length - 1]!.timeStamps.length });
        }
      }
    }
    return out;
  }

  /**
   * Renews (§5.2) each tree not closed whose last token's TSA certificate expires before `now +
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
        const token = await this.stamper.timestampDigest(timeStampRenewal(chain.map((t) => t.token), tree.algorithm).imprint, tree.algorithm);
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

  /**
   * The DER EvidenceRecord of a proof or checkpoint, with every chain whose tree is
   * time-stamped; undefined while it is in no time-stamped tree.
   */
  async record(kind: LeafKind, subjectId: string): Promise<Uint8Array | undefined> {
    const rows = await this.store.recordTrees.chains(kind, subjectId);
    if (rows.length === 0) return undefined;
    const chains = await this.storedChains(rows, (id) => this.store.recordTrees.tokens(id));
    return chains.length === 0 ? undefined : assembleEvidenceRecord(chains);
  }

  /**
   * A subject's chains as stored, oldest first, up to the first whose tree has no token yet: a
   * chain followed by another has the tokens that one covers (its `priorTokens`), the last all
   * its tree's.
   */
  private async storedChains(rows: readonly ChainLeaf[], tokensOf: (treeId: string) => Promise<RecordToken[]>): Promise<StoredChain[]> {
    const chains: StoredChain[] = [];
    for (const [k, row] of rows.entries()) {
      if (row.chain !== k + 1) throw new Error(`${row.kind} ${row.subjectId}: chain ${k + 1} missing`);
      const tokens = await tokensOf(row.treeId);
      if (tokens.length === 0) break;
      const next = rows[k + 1];
      const count = next ? (next.priorTokens ?? 0) : tokens.length;
      if (count < 1 || count > tokens.length) throw new Error(`${row.kind} ${row.subjectId}: chain ${k + 2} covers ${count} tokens of tree ${row.treeId}, which has ${tokens.length}`);
      const loaded = await this.loadTree(row.treeId);
      const i = loaded.index.get(`${row.kind}:${row.subjectId}`);
      if (i === undefined) throw new Error(`tree ${row.treeId} does not list its leaf ${row.kind} ${row.subjectId}`);
      chains.push({ algorithm: loaded.algorithm, leaves: loaded.leaves, tree: loaded.tree, leaf: loaded.leaves[i]!, index: i, timeStamps: tokens.slice(0, count).map((t) => t.token) });
    }
    return chains;
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
    const built = buildHashTree(leaves, tree.algorithm);
    // the root the tree's first token covers: a leaf changed since would make records that fail
    if (hex(built.root) !== tree.root || rows.length !== tree.leafCount) throw new Error(`tree ${id}: its leaves no longer give the root that was time-stamped`);
    const loaded: LoadedTree = { tree: built, algorithm: tree.algorithm, leaves, index: new Map(rows.map((r, i) => [`${r.kind}:${r.subjectId}`, i])) };
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
