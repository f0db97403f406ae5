/**
 * RFC 4998 Evidence Records: one hash tree over many leaf digests, one time-stamp over its
 * root, and for each leaf the record that proves it was in the tree (docs/evidence-records.md).
 *
 *   EvidenceRecord ::= SEQUENCE {
 *     version                   INTEGER { v1(1) },
 *     digestAlgorithms          SEQUENCE OF AlgorithmIdentifier,
 *     archiveTimeStampSequence  ArchiveTimeStampSequence }        -- cryptoInfos, encryptionInfo absent
 *   ArchiveTimeStampSequence ::= SEQUENCE OF ArchiveTimeStampChain
 *   ArchiveTimeStampChain    ::= SEQUENCE OF ArchiveTimeStamp
 *   ArchiveTimeStamp ::= SEQUENCE {
 *     digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,            -- absent: the imprint's
 *     attributes      [1] Attributes OPTIONAL,                     -- absent
 *     reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL,
 *     timeStamp       ContentInfo }
 *   PartialHashtree ::= SEQUENCE OF OCTET STRING                     -- module ERS: IMPLICIT TAGS
 *
 * Hash algorithms: SHA-256 (the default), SHA-384 or SHA-512, one per ArchiveTimeStampChain:
 * the tree's nodes, the renewals' hashes and the time-stamps' imprints of a chain all use it.
 *
 * The tree (RFC 4998 §4.2, the same tree Bouncy Castle's BinaryTreeRootCalculator builds):
 * the leaf digests sorted in binary ascending order; each level pairs neighbours left to right,
 * a parent being the hash of its two children concatenated in binary ascending order; a last
 * node without a neighbour goes up unchanged. A leaf's reduced hash tree lists, level by
 * level, the siblings on its way to the root: the first PartialHashtree holds the leaf and its
 * first sibling (sorted), each further one the next sibling alone (the parents are computed,
 * not stored, §4.2). A first list never holds a single hash, so RFC 4998 §4.3 and Bouncy
 * Castle compute the same root from it. One leaf alone: no reduced hash tree, the time-stamp
 * is over the leaf digest itself.
 *
 * Time-stamp renewal (§5.2): a new ArchiveTimeStamp at the end of the last chain, over the
 * previous ones' timeStamp fields: over the hash of the last one's ContentInfo when it is the
 * first renewal (no reduced hash tree), else a first list of the hash of every earlier
 * timeStamp of the chain, sorted (what Bouncy Castle checks, and §5.3 finds the previous one's
 * hash in it).
 *
 * Hash-tree renewal (§5.2): a new ArchiveTimeStampChain in a new algorithm H'. Its leaf for a
 * data object d is H'(H'(d) ‖ H'(atsc)), atsc being the DER ArchiveTimeStampSequence of every
 * chain before it, the two hashes concatenated in that order (§5.2 step 4 "h(d(i)) + ha(i)";
 * Bouncy Castle's ERSUtil.concatPreviousHashes and EU DSS write the same). Many records share
 * one new tree and one token.
 */
import { digest, digestAlgorithmIdentifier, hashByOid, hashLength, hashOid, readAlgorithmIdentifier, type HashName } from './AlgorithmIdentifier.js';
import { concat, contextTag, DerError, DerSequence, equalBytes, integer, octetString, readDer, readOctetString, readSmallInteger, sequence, Tag, tlv, type DerNode } from './der.js';
import { TimeStampError } from './TimeStampError.js';
import type { DigestTimeStamper } from './TimeStamper.js';
import { parseTimeStampToken, type TimeStampTokenInfo } from './TimeStampToken.js';
import { verifyTimeStampToken } from './TimeStampVerification.js';

/** The hash algorithms of trees, renewals and archive time-stamps. */
export const EVIDENCE_HASHES: readonly HashName[] = ['SHA-256', 'SHA-384', 'SHA-512'];
const DEFAULT_HASH: HashName = 'SHA-256';

function checkHash(algorithm: HashName): HashName {
  if (!EVIDENCE_HASHES.includes(algorithm)) throw new RangeError(`unsupported evidence record hash algorithm: ${String(algorithm)}`);
  return algorithm;
}

/** Binary ascending order of hash values (RFC 4998 §4.2): octet by octet, as unsigned numbers. */
export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The hash of the given hash values concatenated in binary ascending order (RFC 4998 §4.2 step 4). */
export function branchHash(values: readonly Uint8Array[], algorithm: HashName = DEFAULT_HASH): Uint8Array {
  return digest(algorithm, concat([...values].sort(compareHashes)));
}

export interface HashTree {
  /** The hash algorithm of the leaves and nodes. */
  algorithm: HashName;
  /** The root; the time-stamp's imprint. */
  root: Uint8Array;
  /** For each leaf, in the order given: its siblings from the bottom level up. */
  paths: Uint8Array[][];
  /** Levels from the sorted leaves (level 0) to the root. */
  levels: Uint8Array[][];
}

/** Builds the tree over leaf digests of `algorithm` (any order; duplicates allowed). */
export function buildHashTree(leaves: readonly Uint8Array[], algorithm: HashName = DEFAULT_HASH): HashTree {
  checkHash(algorithm);
  const length = hashLength(algorithm);
  if (leaves.length === 0) throw new RangeError('a hash tree needs at least one leaf');
  for (const leaf of leaves) if (!(leaf instanceof Uint8Array) || leaf.length !== length) throw new RangeError(`a leaf is a ${algorithm} value of ${length} octets`);
  const order = leaves.map((_, i) => i).sort((i, j) => compareHashes(leaves[i]!, leaves[j]!) || i - j);
  const levels: Uint8Array[][] = [order.map((i) => leaves[i]!)];
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!;
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(branchHash([level[i]!, level[i + 1]!], algorithm));
    if (level.length % 2 === 1) up.push(level[level.length - 1]!);
    levels.push(up);
  }
  const paths: Uint8Array[][] = new Array<Uint8Array[]>(leaves.length);
  order.forEach((leafIndex, position) => {
    const path: Uint8Array[] = [];
    let p = position;
    for (let l = 0; l < levels.length - 1; l++) {
      const sibling = p ^ 1;
      if (sibling < levels[l]!.length) path.push(levels[l]![sibling]!);
      p >>= 1;
    }
    paths[leafIndex] = path;
  });
  return { algorithm, root: levels[levels.length - 1]![0]!, paths, levels };
}

/** The reduced hash tree of a leaf (the lists described above), or undefined for a lone leaf. */
export function reducedHashTree(leaf: Uint8Array, path: readonly Uint8Array[]): Uint8Array[][] | undefined {
  if (path.length === 0) return undefined;
  return [[leaf, path[0]!].sort(compareHashes), ...path.slice(1).map((h) => [h])];
}

/** The root RFC 4998 §4.3 computes from a reduced hash tree. */
export function recoverRoot(lists: readonly (readonly Uint8Array[])[], algorithm: HashName = DEFAULT_HASH): Uint8Array {
  let h = branchHash(lists[0]!, algorithm);
  for (const list of lists.slice(1)) h = branchHash([...list, h], algorithm);
  return h;
}

/** An ArchiveTimeStamp: the reduced hash tree (if any) and the token. */
export function encodeArchiveTimeStamp(lists: readonly (readonly Uint8Array[])[] | undefined, token: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  if (lists) parts.push(tlv(contextTag(2, true), concat(lists.map((list) => sequence(...list.map(octetString))))));
  parts.push(token);
  return sequence(...parts);
}

/**
 * An EvidenceRecord v1 over the given chains of encoded ArchiveTimeStamps; digestAlgorithms
 * lists `algorithms` (default SHA-256 alone) in the order given, parameters absent.
 */
export function encodeEvidenceRecord(chains: readonly (readonly Uint8Array[])[], algorithms: readonly HashName[] = [DEFAULT_HASH]): Uint8Array {
  return encodeRecord(algorithms.map((a) => digestAlgorithmIdentifier(checkHash(a))), chains);
}

function encodeRecord(algorithmIdentifiers: readonly Uint8Array[], chains: readonly (readonly Uint8Array[])[]): Uint8Array {
  return sequence(integer(1), sequence(...algorithmIdentifiers), archiveTimeStampSequence(chains));
}

/** The DER ArchiveTimeStampSequence of the given chains (what a hash-tree renewal hashes, §5.2 step 3). */
function archiveTimeStampSequence(chains: readonly (readonly Uint8Array[])[]): Uint8Array {
  return sequence(...chains.map((chain) => sequence(...chain)));
}

/** Asks the stamper for a token over `value` in `algorithm`, and makes sure it is one. */
async function stampDigest(stamper: DigestTimeStamper, value: Uint8Array, algorithm: HashName): Promise<Uint8Array> {
  const token = await stamper.timestampDigest(value, algorithm);
  const { messageImprint } = parseTimeStampToken(token);
  if (messageImprint.hashAlgorithmOid !== hashOid(algorithm) || !equalBytes(messageImprint.hashedMessage, value)) {
    throw new TimeStampError('TSA_RESPONSE_MISMATCH', `the time-stamp token is not over the ${algorithm} value asked for`);
  }
  return token;
}

export interface EvidenceRecords {
  /** The hash algorithm of the tree and of the token's imprint. */
  algorithm: HashName;
  root: Uint8Array;
  /** The TSA token over the root: one per tree. */
  token: Uint8Array;
  /** One DER EvidenceRecord per leaf, in the order the leaves were given. */
  records: Uint8Array[];
}

/** Builds the tree (leaves of `algorithm`, default SHA-256), has its root time-stamped once, and writes every leaf's record. */
export async function createEvidenceRecords(leaves: readonly Uint8Array[], stamper: DigestTimeStamper, algorithm: HashName = DEFAULT_HASH): Promise<EvidenceRecords> {
  const tree = buildHashTree(leaves, algorithm);
  const token = await stampDigest(stamper, tree.root, algorithm);
  const records = leaves.map((leaf, i) => encodeEvidenceRecord([[encodeArchiveTimeStamp(reducedHashTree(leaf, tree.paths[i]!), token)]], [algorithm]));
  return { algorithm, root: tree.root, token, records };
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

export interface ArchiveTimeStampValue {
  /** The whole ArchiveTimeStamp encoding. */
  der: Uint8Array;
  /** The reduced hash tree, when present. */
  lists?: Uint8Array[][];
  /** The timeStamp field (a ContentInfo), as encoded. */
  timeStamp: Uint8Array;
  /** digestAlgorithm [0], when present. */
  digestAlgorithmOid?: string;
}

export interface EvidenceRecordValue {
  version: number;
  digestAlgorithmOids: string[];
  /** The digestAlgorithms' AlgorithmIdentifiers as encoded. */
  digestAlgorithmDers: Uint8Array[];
  chains: ArchiveTimeStampValue[][];
}

/** Reads a DER EvidenceRecord (structure only). Throws DerError when it is not one. */
export function parseEvidenceRecord(record: Uint8Array): EvidenceRecordValue {
  const root = readDer(record);
  const seq = new DerSequence(root, 'EvidenceRecord');
  const version = readSmallInteger(seq.next(Tag.INTEGER, 'version'), 'version');
  const algorithmNodes = seq.next(Tag.SEQUENCE, 'digestAlgorithms').children;
  const algorithms = algorithmNodes.map((n) => readAlgorithmIdentifier(n, 'digestAlgorithms').oid);
  if (seq.optional(contextTag(0, true))) throw new DerError('EvidenceRecord: cryptoInfos are not supported');
  if (seq.optional(contextTag(1, true))) throw new DerError('EvidenceRecord: encryptionInfo is not supported');
  const sequenceNode = seq.next(Tag.SEQUENCE, 'archiveTimeStampSequence');
  seq.end();
  if (sequenceNode.children.length === 0) throw new DerError('EvidenceRecord: no ArchiveTimeStampChain');
  const chains = sequenceNode.children.map((chain) => {
    if (chain.tag !== Tag.SEQUENCE || chain.children.length === 0) throw new DerError('EvidenceRecord: an ArchiveTimeStampChain is not a non-empty SEQUENCE');
    return chain.children.map(readArchiveTimeStamp);
  });
  return { version, digestAlgorithmOids: algorithms, digestAlgorithmDers: algorithmNodes.map((n) => n.bytes), chains };
}

function readArchiveTimeStamp(node: DerNode): ArchiveTimeStampValue {
  const seq = new DerSequence(node, 'ArchiveTimeStamp');
  const alg = seq.optional(contextTag(0, true));
  if (seq.optional(contextTag(1, true))) throw new DerError('ArchiveTimeStamp: attributes are not supported');
  const tree = seq.optional(contextTag(2, true));
  const timeStamp = seq.next(Tag.SEQUENCE, 'timeStamp');
  seq.end();
  let lists: Uint8Array[][] | undefined;
  if (tree) {
    if (tree.children.length === 0) throw new DerError('ArchiveTimeStamp: empty reducedHashtree');
    lists = tree.children.map((list) => {
      if (list.tag !== Tag.SEQUENCE || list.children.length === 0) throw new DerError('ArchiveTimeStamp: a PartialHashtree is not a non-empty SEQUENCE OF OCTET STRING');
      return list.children.map((h) => readOctetString(h, 'PartialHashtree'));
    });
  }
  let digestAlgorithmOid: string | undefined;
  if (alg) digestAlgorithmOid = readAlgorithmIdentifier({ ...alg, tag: Tag.SEQUENCE }, 'digestAlgorithm').oid;
  return { der: node.bytes, timeStamp: timeStamp.bytes, ...(lists ? { lists } : {}), ...(digestAlgorithmOid ? { digestAlgorithmOid } : {}) };
}

/** The hash algorithm of a chain (its first ArchiveTimeStamp's digestAlgorithm, else its imprint's), for the writers. */
function chainAlgorithm(chain: readonly ArchiveTimeStampValue[]): HashName {
  const first = chain[0]!;
  const oid = first.digestAlgorithmOid ?? parseTimeStampToken(first.timeStamp).messageImprint.hashAlgorithmOid;
  const hash = hashByOid(oid);
  if (!hash) throw new RangeError(`the record's chain uses hash algorithm ${oid}, not SHA-256, SHA-384 or SHA-512`);
  return hash;
}

/** The hash algorithm of a record's last ArchiveTimeStampChain: the one a time-stamp renewal uses. */
export function recordDigestAlgorithm(record: Uint8Array): HashName {
  const value = parseEvidenceRecord(record);
  return chainAlgorithm(value.chains[value.chains.length - 1]!);
}

// ---------------------------------------------------------------------------------------------
// Renewal
// ---------------------------------------------------------------------------------------------

/**
 * What a time-stamp renewal of a chain whose time-stamps are `timeStamps` (the DER
 * ContentInfos, oldest first) time-stamps (§5.2): over the hash of the one time-stamp, no
 * reduced hash tree; or a first list of the hashes of all of them, sorted, and its hash.
 * The same for every record of a tree: a service renews a tree once.
 */
export function timeStampRenewal(timeStamps: readonly Uint8Array[], algorithm: HashName = DEFAULT_HASH): { imprint: Uint8Array; lists?: Uint8Array[][] } {
  checkHash(algorithm);
  if (timeStamps.length === 0) throw new RangeError('a time-stamp renewal renews at least one time-stamp');
  const hashes = timeStamps.map((ts) => digest(algorithm, ts));
  if (hashes.length === 1) return { imprint: hashes[0]! };
  const first = [...hashes].sort(compareHashes);
  return { imprint: branchHash(first, algorithm), lists: [first] };
}

/** RFC 4998 §5.2 time-stamp renewal: the record with a new ArchiveTimeStamp at the end of its last chain, in that chain's algorithm. */
export async function renewTimeStamp(record: Uint8Array, stamper: DigestTimeStamper): Promise<Uint8Array> {
  const value = parseEvidenceRecord(record);
  const chain = value.chains[value.chains.length - 1]!;
  const algorithm = chainAlgorithm(chain);
  const renewal = timeStampRenewal(chain.map((ats) => ats.timeStamp), algorithm);
  const ats = encodeArchiveTimeStamp(renewal.lists, await stampDigest(stamper, renewal.imprint, algorithm));
  const chains = value.chains.map((c) => c.map((a) => a.der));
  chains[chains.length - 1] = [...chains[chains.length - 1]!, ats];
  return encodeRecord(value.digestAlgorithmDers, chains);
}

/** H'(H'(d) ‖ H'(atsc)), from the data's hash and the DER ArchiveTimeStampSequence of the chains before. */
function renewalLeaf(dataHash: Uint8Array, previousChains: Uint8Array, algorithm: HashName): Uint8Array {
  return digest(algorithm, concat([dataHash, digest(algorithm, previousChains)]));
}

function sequenceOf(chains: readonly ArchiveTimeStampValue[][]): Uint8Array {
  return archiveTimeStampSequence(chains.map((c) => c.map((a) => a.der)));
}

/**
 * The leaf of a hash-tree renewal (§5.2 steps 2–4) for a data object with its current record:
 * `algorithm`(algorithm(data) ‖ algorithm(the record's ArchiveTimeStampSequence)).
 */
export function hashTreeRenewalLeaf(data: Uint8Array, record: Uint8Array, algorithm: HashName): Uint8Array {
  checkHash(algorithm);
  return renewalLeaf(digest(algorithm, data), sequenceOf(parseEvidenceRecord(record).chains), algorithm);
}

/**
 * The record with one more ArchiveTimeStampChain (§5.2 step 6): one ArchiveTimeStamp, the
 * leaf's reduced hash tree in the new tree (undefined for a tree of one leaf) and the token
 * over that tree's root, in `algorithm`; digestAlgorithms gets `algorithm` appended when it
 * is not listed yet (as Bouncy Castle's EvidenceRecord.addArchiveTimeStamp does).
 */
export function appendArchiveTimeStampChain(record: Uint8Array, algorithm: HashName, reducedHashTree: readonly (readonly Uint8Array[])[] | undefined, token: Uint8Array): Uint8Array {
  checkHash(algorithm);
  const value = parseEvidenceRecord(record);
  const { messageImprint } = parseTimeStampToken(token);
  if (messageImprint.hashAlgorithmOid !== hashOid(algorithm)) throw new RangeError(`the token's imprint is not ${algorithm}`);
  if (reducedHashTree) {
    if (reducedHashTree.length === 0 || reducedHashTree.some((list) => list.length === 0 || list.some((h) => h.length !== hashLength(algorithm)))) {
      throw new RangeError(`a reduced hash tree is non-empty lists of ${algorithm} values`);
    }
    if (!equalBytes(recoverRoot(reducedHashTree, algorithm), messageImprint.hashedMessage)) throw new RangeError('the reduced hash tree does not lead to the token\'s imprint');
  }
  const algorithms = value.digestAlgorithmOids.includes(hashOid(algorithm)) ? value.digestAlgorithmDers : [...value.digestAlgorithmDers, digestAlgorithmIdentifier(algorithm)];
  const chains = [...value.chains.map((c) => c.map((a) => a.der)), [encodeArchiveTimeStamp(reducedHashTree, token)]];
  return encodeRecord(algorithms, chains);
}

/**
 * RFC 4998 §5.2 hash-tree renewal of many records at once: one tree in `algorithm` over every
 * item's renewal leaf, one token over its root, and each record with the new chain, in the
 * order given. Each item's data must be the leaf its record was made for.
 */
export async function renewHashTree(items: readonly { data: Uint8Array; record: Uint8Array }[], algorithm: HashName, stamper: DigestTimeStamper): Promise<Uint8Array[]> {
  checkHash(algorithm);
  if (items.length === 0) throw new RangeError('a hash-tree renewal needs at least one record');
  const leaves = items.map(({ data, record }, i) => {
    const value = parseEvidenceRecord(record);
    const first = value.chains[0]![0]!;
    const firstAlgorithm = chainAlgorithm(value.chains[0]!);
    const h = digest(firstAlgorithm, data);
    const covered = first.lists ? first.lists[0]!.some((x) => equalBytes(x, h)) : equalBytes(parseTimeStampToken(first.timeStamp).messageImprint.hashedMessage, h);
    if (!covered) throw new RangeError(`item ${i + 1}: the data is not the leaf its record was made for`);
    return renewalLeaf(digest(algorithm, data), sequenceOf(value.chains), algorithm);
  });
  const tree = buildHashTree(leaves, algorithm);
  const token = await stampDigest(stamper, tree.root, algorithm);
  return items.map(({ record }, i) => appendArchiveTimeStampChain(record, algorithm, reducedHashTree(leaves[i]!, tree.paths[i]!), token));
}

/** One ArchiveTimeStampChain of a record kept as its tree: the tree's leaves and the tree's time-stamps. */
export interface StoredChain {
  algorithm: HashName;
  /** The tree's leaves (any order, as buildHashTree takes them). */
  leaves: readonly Uint8Array[];
  /** The same tree already built with buildHashTree(leaves, algorithm), to reuse across leaves. */
  tree?: HashTree;
  /** This record's leaf in the tree; computed from `data` when absent. */
  leaf?: Uint8Array;
  /** The leaf's position in `leaves`, when the caller knows it (else it is looked for). */
  index?: number;
  /** The token over the tree's root, then each time-stamp renewal's token, oldest first. */
  timeStamps: readonly Uint8Array[];
}

/**
 * Builds one leaf's record from what a service keeps per tree: for each chain, the tree's
 * leaves and its tokens (the first over the root, the next ones time-stamp renewals as
 * `timeStampRenewal` computes them). A chain's leaf is given, or computed from `data` (the
 * data's hash for the first chain, the hash-tree renewal leaf over the chains before for
 * the next). The result is byte for byte what createEvidenceRecords, renewTimeStamp and
 * renewHashTree write for the same trees and tokens. A chain's time-stamps must be those it
 * had when the next chain was made: a later chain's leaf covers them.
 */
export function assembleEvidenceRecord(chains: readonly StoredChain[], data?: Uint8Array): Uint8Array {
  if (chains.length === 0) throw new RangeError('a record has at least one chain');
  const algorithms: HashName[] = [];
  const built: Uint8Array[][] = [];
  for (const [k, chain] of chains.entries()) {
    const algorithm = checkHash(chain.algorithm);
    if (chain.timeStamps.length === 0) throw new RangeError(`chain ${k + 1}: no time-stamp`);
    let leaf = chain.leaf;
    if (!leaf) {
      if (!(data instanceof Uint8Array)) throw new RangeError(`chain ${k + 1}: give its leaf or the data`);
      leaf = k === 0 ? digest(algorithm, data) : renewalLeaf(digest(algorithm, data), archiveTimeStampSequence(built), algorithm);
    }
    const tree = chain.tree ?? buildHashTree(chain.leaves, algorithm);
    if (tree.algorithm !== algorithm) throw new RangeError(`chain ${k + 1}: the tree is ${tree.algorithm}, not ${algorithm}`);
    const index = chain.index !== undefined && chain.leaves[chain.index] !== undefined && equalBytes(chain.leaves[chain.index]!, leaf) ? chain.index : chain.leaves.findIndex((l) => equalBytes(l, leaf));
    if (index < 0) throw new RangeError(`chain ${k + 1}: the leaf is not in the tree`);
    const atss = [encodeArchiveTimeStamp(reducedHashTree(leaf, tree.paths[index]!), chain.timeStamps[0]!)];
    for (let j = 1; j < chain.timeStamps.length; j++) atss.push(encodeArchiveTimeStamp(timeStampRenewal(chain.timeStamps.slice(0, j), algorithm).lists, chain.timeStamps[j]!));
    built.push(atss);
    if (!algorithms.includes(algorithm)) algorithms.push(algorithm);
  }
  return encodeEvidenceRecord(built, algorithms);
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/**
 * The checks of `verifyEvidenceRecord`, in the order they run; the first that fails names the
 * failure:
 *
 * | check | what |
 * | --- | --- |
 * | RECORD_STRUCTURE | DER, EvidenceRecord v1, no cryptoInfos/encryptionInfo/attributes, every timeStamp a time-stamp token |
 * | DIGEST_ALGORITHM | every algorithm SHA-256, SHA-384 or SHA-512; one per chain (every imprint and digestAlgorithm [0] of a chain the same); each chain's listed in digestAlgorithms |
 * | PATH_NODES | every hash of every reduced hash tree has its chain's hash length |
 * | LEAF_DIGEST | the leaf's digest is in the first list of the first ArchiveTimeStamp (or is its imprint when it has no tree): a tampered leaf, a record for another leaf; the data's hash is known in every chain's algorithm |
 * | ROOT_IMPRINT | the root computed from the first ArchiveTimeStamp's reduced hash tree is its time-stamp's imprint: a wrong path node, a token for another tree |
 * | RENEWAL_CHAIN | in each chain, each later ArchiveTimeStamp covers the previous one's timeStamp (§5.3), its root is its imprint, genTimes do not go back |
 * | CHAIN_SKIPPED | a later chain's leaf covers the data with fewer chains than are before it: a renewal made over a record that missed a chain |
 * | HASH_TREE_RENEWAL | a later chain's first ArchiveTimeStamp does not cover H'(H'(d) ‖ H'(previous chains)) (§5.3), its root is not its imprint, or it is older than the chain before |
 * | TIMESTAMP_TOKEN | every token verifies (signature, ESS binding, TSA usage, path to a trust anchor), each at the next one's genTime (across chains), the last at `at` (not after its genTime) |
 */
export type EvidenceRecordCheckName =
  | 'RECORD_STRUCTURE'
  | 'DIGEST_ALGORITHM'
  | 'PATH_NODES'
  | 'LEAF_DIGEST'
  | 'ROOT_IMPRINT'
  | 'RENEWAL_CHAIN'
  | 'CHAIN_SKIPPED'
  | 'HASH_TREE_RENEWAL'
  | 'TIMESTAMP_TOKEN';

export interface EvidenceRecordCheck {
  name: EvidenceRecordCheckName;
  passed: boolean;
  detail: string;
}

export interface EvidenceRecordChainReport {
  /** The chain's hash algorithm. */
  algorithm: HashName;
  /** genTime of each of its ArchiveTimeStamps. */
  genTimes: Date[];
}

export interface EvidenceRecordReport {
  valid: boolean;
  /** The first check that failed. */
  failedCheck?: EvidenceRecordCheckName;
  checks: EvidenceRecordCheck[];
  /** genTime of every ArchiveTimeStamp, chain after chain, when they parsed. */
  genTimes?: Date[];
  /** Each chain's algorithm and genTimes, when the algorithms checked. */
  chains?: EvidenceRecordChainReport[];
  /** When the record is valid: the first genTime, the time at which it proves the data existed. */
  proofOfExistence?: Date;
}

export interface EvidenceRecordVerifyOptions {
  /** DER root certificates for the TSA certificates. */
  trustAnchors: Uint8Array[];
  /** The time at which the last time-stamp's TSA certificate must be valid; default now. */
  at?: Date;
  crypto?: Crypto;
}

/**
 * The leaf: the data; or its digest in the first chain's algorithm (enough for a record whose
 * chains all use that algorithm); or its digests by algorithm.
 */
export type EvidenceLeaf = { digest: Uint8Array } | { data: Uint8Array } | { digests: Partial<Record<HashName, Uint8Array>> };

/** Verifies a record for a leaf. Never throws. */
export async function verifyEvidenceRecord(record: Uint8Array, leaf: EvidenceLeaf, options: EvidenceRecordVerifyOptions): Promise<EvidenceRecordReport> {
  const checks: EvidenceRecordCheck[] = [];
  const extra: Pick<EvidenceRecordReport, 'genTimes' | 'chains'> = {};
  const pass = (name: EvidenceRecordCheckName, detail: string) => checks.push({ name, passed: true, detail });
  const fail = (name: EvidenceRecordCheckName, detail: string): EvidenceRecordReport => {
    checks.push({ name, passed: false, detail });
    return { valid: false, failedCheck: name, checks, ...extra };
  };

  let value: EvidenceRecordValue;
  try {
    if (!(record instanceof Uint8Array)) return fail('RECORD_STRUCTURE', 'the record must be a byte array');
    value = parseEvidenceRecord(record);
  } catch (err) {
    return fail('RECORD_STRUCTURE', `not an RFC 4998 EvidenceRecord: ${(err as Error).message}`);
  }
  if (value.version !== 1) return fail('RECORD_STRUCTURE', `version ${value.version}, not v1(1)`);
  const infos: TimeStampTokenInfo[][] = [];
  for (const [k, chain] of value.chains.entries()) {
    const chainInfos: TimeStampTokenInfo[] = [];
    for (const [j, ats] of chain.entries()) {
      try {
        chainInfos.push(parseTimeStampToken(ats.timeStamp));
      } catch (err) {
        return fail('RECORD_STRUCTURE', `${where(value, k, j)}: the timeStamp is not a time-stamp token: ${(err as Error).message}`);
      }
    }
    infos.push(chainInfos);
  }
  const atsCount = infos.reduce((n, c) => n + c.length, 0);
  pass('RECORD_STRUCTURE', `EvidenceRecord v1, ${value.chains.length} ArchiveTimeStampChain${plural(value.chains.length)}, ${atsCount} ArchiveTimeStamp${plural(atsCount)}`);
  extra.genTimes = infos.flat().map((i) => i.genTime);

  // DIGEST_ALGORITHM
  const listed = new Set<string>();
  for (const oid of value.digestAlgorithmOids) {
    if (!hashByOid(oid)) return fail('DIGEST_ALGORITHM', `digestAlgorithms lists ${oid}, not SHA-256, SHA-384 or SHA-512`);
    listed.add(oid);
  }
  const algorithms: HashName[] = [];
  for (const [k, chain] of value.chains.entries()) {
    let algorithm: HashName | undefined;
    for (const [j, ats] of chain.entries()) {
      const imprintOid = infos[k]![j]!.messageImprint.hashAlgorithmOid;
      const hash = hashByOid(imprintOid);
      if (!hash) return fail('DIGEST_ALGORITHM', `${where(value, k, j)}: the time-stamp imprint is ${imprintOid}, not SHA-256, SHA-384 or SHA-512`);
      if (ats.digestAlgorithmOid !== undefined && ats.digestAlgorithmOid !== imprintOid) {
        return fail('DIGEST_ALGORITHM', `${where(value, k, j)}: digestAlgorithm ${hashByOid(ats.digestAlgorithmOid) ?? ats.digestAlgorithmOid} is not its time-stamp's imprint algorithm ${hash}`);
      }
      if (algorithm === undefined) algorithm = hash;
      else if (hash !== algorithm) return fail('DIGEST_ALGORITHM', `${where(value, k, j)} is in ${hash}, its chain in ${algorithm}: a time-stamp renewal keeps the chain's algorithm`);
    }
    if (!listed.has(hashOid(algorithm!))) return fail('DIGEST_ALGORITHM', `chain ${k + 1} is in ${algorithm!}, which digestAlgorithms does not list`);
    algorithms.push(algorithm!);
  }
  extra.chains = algorithms.map((algorithm, k) => ({ algorithm, genTimes: infos[k]!.map((i) => i.genTime) }));
  pass('DIGEST_ALGORITHM', `${algorithms.join(' → ')}${value.chains.length > 1 ? ' (hash-tree renewal)' : ''}`);

  for (const [k, chain] of value.chains.entries()) {
    const length = hashLength(algorithms[k]!);
    for (const [j, ats] of chain.entries()) {
      const bad = ats.lists?.findIndex((list) => list.some((h) => h.length !== length)) ?? -1;
      if (bad >= 0) return fail('PATH_NODES', `${where(value, k, j)}, PartialHashtree ${bad + 1}: a value is not a ${algorithms[k]!} hash`);
    }
  }
  pass('PATH_NODES', `every reduced hash tree holds ${[...new Set(algorithms)].join(', ')} values only`);

  // the data's hash in each chain's algorithm
  const dataHashes = new Map<HashName, Uint8Array>();
  const given = leaf as Partial<{ digest: unknown; data: unknown; digests: unknown }> | undefined;
  for (const algorithm of new Set(algorithms)) {
    let h: unknown;
    if (given && given.data instanceof Uint8Array) h = digest(algorithm, given.data);
    else if (given && given.digest instanceof Uint8Array) h = algorithm === algorithms[0] ? given.digest : undefined;
    else if (given && typeof given.digests === 'object' && given.digests !== null) h = (given.digests as Record<string, unknown>)[algorithm];
    else return fail('LEAF_DIGEST', 'the leaf must be given as { digest }, { data } or { digests }');
    if (!(h instanceof Uint8Array)) return fail('LEAF_DIGEST', `the record has a chain in ${algorithm}: give the data or its ${algorithm} digest`);
    dataHashes.set(algorithm, h);
  }

  const covers = (ats: ArchiveTimeStampValue, imprint: Uint8Array, h: Uint8Array) => (ats.lists ? ats.lists[0]!.some((x) => equalBytes(x, h)) : equalBytes(imprint, h));
  const rootOf = (ats: ArchiveTimeStampValue, h: Uint8Array, algorithm: HashName) => (ats.lists ? recoverRoot(ats.lists, algorithm) : h);

  const first = value.chains[0]![0]!;
  const leafDigest = dataHashes.get(algorithms[0]!)!;
  const firstImprint = infos[0]![0]!.messageImprint.hashedMessage;
  if (!covers(first, firstImprint, leafDigest)) {
    return fail('LEAF_DIGEST', first.lists ? 'the leaf digest is not in the first list of the reduced hash tree' : 'the leaf digest is not the time-stamp imprint');
  }
  pass('LEAF_DIGEST', first.lists ? 'the leaf digest is in the first list of the reduced hash tree' : 'the leaf digest is the time-stamp imprint (a tree of one leaf)');

  if (!equalBytes(rootOf(first, leafDigest, algorithms[0]!), firstImprint)) {
    return fail('ROOT_IMPRINT', `the root computed from the reduced hash tree (${first.lists?.length ?? 0} lists) is not the time-stamp imprint`);
  }
  pass('ROOT_IMPRINT', 'the root computed from the reduced hash tree is the time-stamp imprint');

  let renewals = 0;
  for (const [k, chain] of value.chains.entries()) {
    const algorithm = algorithms[k]!;
    for (let i = 1; i < chain.length; i++) {
      const previous = digest(algorithm, chain[i - 1]!.timeStamp);
      const imprint = infos[k]![i]!.messageImprint.hashedMessage;
      if (!covers(chain[i]!, imprint, previous)) return fail('RENEWAL_CHAIN', `${where(value, k, i)} does not cover the time-stamp of ${where(value, k, i - 1)}`);
      if (!equalBytes(rootOf(chain[i]!, previous, algorithm), imprint)) return fail('RENEWAL_CHAIN', `${where(value, k, i)}: the root of its reduced hash tree is not its time-stamp imprint`);
      if (infos[k]![i]!.genTime < infos[k]![i - 1]!.genTime) return fail('RENEWAL_CHAIN', `${where(value, k, i)} is older than ${where(value, k, i - 1)}`);
      renewals++;
    }
  }
  if (renewals > 0) pass('RENEWAL_CHAIN', `each of ${renewals} time-stamp renewal${plural(renewals)} covers the previous time-stamp`);

  for (let k = 1; k < value.chains.length; k++) {
    const algorithm = algorithms[k]!;
    const ats = value.chains[k]![0]!;
    const imprint = infos[k]![0]!.messageImprint.hashedMessage;
    const dataHash = dataHashes.get(algorithm)!;
    const covering = (j: number): Uint8Array | undefined => {
      const previous = digest(algorithm, sequenceOf(value.chains.slice(0, j)));
      // §5.2 step 4 as written (h(d) then ha); also the two in binary ascending order, a reading of "+" as in §4.2
      return [digest(algorithm, concat([dataHash, previous])), branchHash([dataHash, previous], algorithm)].find((h) => covers(ats, imprint, h));
    };
    const h = covering(k);
    if (!h) {
      const skipped = Array.from({ length: k - 1 }, (_, j) => j + 1).find((j) => covering(j));
      if (skipped !== undefined) {
        return fail('CHAIN_SKIPPED', `chain ${k + 1} covers the data with the first ${skipped} chain${plural(skipped)} only, not the ${k} before it`);
      }
      if (covers(ats, imprint, dataHash)) return fail('HASH_TREE_RENEWAL', `chain ${k + 1} covers the data's ${algorithm} hash but not the chains before it`);
      return fail('HASH_TREE_RENEWAL', `chain ${k + 1} does not cover the data with the ${k} chain${plural(k)} before it (${algorithm}(${algorithm}(d) ‖ ${algorithm}(ArchiveTimeStampSequence)))`);
    }
    if (!equalBytes(rootOf(ats, h, algorithm), imprint)) return fail('HASH_TREE_RENEWAL', `chain ${k + 1}: the root computed from its reduced hash tree is not its time-stamp imprint`);
    const before = infos[k - 1]![infos[k - 1]!.length - 1]!.genTime;
    if (infos[k]![0]!.genTime < before) return fail('HASH_TREE_RENEWAL', `chain ${k + 1} is older than the last time-stamp of chain ${k}`);
  }
  if (value.chains.length > 1) pass('HASH_TREE_RENEWAL', `each of ${value.chains.length - 1} later chain${plural(value.chains.length - 1)} covers the data and the chains before it`);

  const genTimes = extra.genTimes;
  const last = options?.at ?? new Date();
  if (genTimes[genTimes.length - 1]! > last) return fail('TIMESTAMP_TOKEN', `the last time-stamp's genTime ${genTimes[genTimes.length - 1]!.toISOString()} is after ${last.toISOString()}`);
  const anchors = Array.isArray(options?.trustAnchors) ? options.trustAnchors : [];
  const all = value.chains.flatMap((chain, k) => chain.map((ats, j) => ({ ats, name: where(value, k, j) })));
  for (const [i, { ats, name }] of all.entries()) {
    const at = i + 1 < all.length ? genTimes[i + 1]! : last;
    const token = await verifyTimeStampToken(ats.timeStamp, new Uint8Array(0), { trustAnchors: anchors, at, ...(options?.crypto ? { crypto: options.crypto } : {}) });
    const failed = token.checks.find((c) => !c.passed && c.name !== 'TIMESTAMP_IMPRINT');
    if (failed) return fail('TIMESTAMP_TOKEN', `${name}: ${failed.name}: ${failed.detail}`);
  }
  pass('TIMESTAMP_TOKEN', `${all.length} time-stamp token${plural(all.length)} verified, the last at ${last.toISOString()}`);
  return { valid: true, checks, ...extra, proofOfExistence: genTimes[0]! };
}

/** "ArchiveTimeStamp 2" in a record of one chain, "chain 2, ArchiveTimeStamp 1" otherwise. */
function where(value: EvidenceRecordValue, k: number, j: number): string {
  return value.chains.length === 1 ? `ArchiveTimeStamp ${j + 1}` : `chain ${k + 1}, ArchiveTimeStamp ${j + 1}`;
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
