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
 *     digestAlgorithm [0] AlgorithmIdentifier OPTIONAL,            -- absent: the imprint's (SHA-256)
 *     attributes      [1] Attributes OPTIONAL,                     -- absent
 *     reducedHashtree [2] SEQUENCE OF PartialHashtree OPTIONAL,
 *     timeStamp       ContentInfo }
 *   PartialHashtree ::= SEQUENCE OF OCTET STRING                     -- module ERS: IMPLICIT TAGS
 *
 * The tree (RFC 4998 §4.2, the same tree Bouncy Castle's BinaryTreeRootCalculator builds):
 * the leaf digests sorted in binary ascending order; each level pairs neighbours left to right,
 * a parent being SHA-256 of its two children concatenated in binary ascending order; a last
 * node without a neighbour goes up unchanged. A leaf's reduced hash tree lists, level by
 * level, the siblings on its way to the root: the first PartialHashtree holds the leaf and its
 * first sibling (sorted), each further one the next sibling alone (the parents are computed,
 * not stored, §4.2). A first list never holds a single hash, so RFC 4998 §4.3 and Bouncy
 * Castle compute the same root from it. One leaf alone: no reduced hash tree, the time-stamp
 * is over the leaf digest itself.
 *
 * Time-stamp renewal (§5.2): a new ArchiveTimeStamp at the end of the last chain, over the
 * previous ones' timeStamp fields: over SHA-256 of the last one's ContentInfo when it is the
 * first renewal (no reduced hash tree), else a first list of the SHA-256 of every earlier
 * timeStamp of the chain, sorted (what Bouncy Castle checks, and §5.3 finds the previous one's
 * hash in it).
 */
import { digest, digestAlgorithmIdentifier, hashByOid, hashOid, readAlgorithmIdentifier } from './AlgorithmIdentifier.js';
import { concat, contextTag, DerError, DerSequence, equalBytes, integer, octetString, readDer, readOctetString, readSmallInteger, sequence, Tag, tlv, type DerNode } from './der.js';
import type { DigestTimeStamper } from './TimeStamper.js';
import { parseTimeStampToken } from './TimeStampToken.js';
import { verifyTimeStampToken } from './TimeStampVerification.js';

const HASH = 'SHA-256';
const HASH_LENGTH = 32;

/** Binary ascending order of hash values (RFC 4998 §4.2): octet by octet, as unsigned numbers. */
export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** SHA-256 of the given hash values concatenated in binary ascending order (RFC 4998 §4.2 step 4). */
export function branchHash(values: readonly Uint8Array[]): Uint8Array {
  return digest(HASH, concat([...values].sort(compareHashes)));
}

export interface HashTree {
  /** The root; the time-stamp's imprint. */
  root: Uint8Array;
  /** For each leaf, in the order given: its siblings from the bottom level up. */
  paths: Uint8Array[][];
  /** Levels from the sorted leaves (level 0) to the root. */
  levels: Uint8Array[][];
}

/** Builds the tree over SHA-256 leaf digests (any order; duplicates allowed). */
export function buildHashTree(leaves: readonly Uint8Array[]): HashTree {
  if (leaves.length === 0) throw new RangeError('a hash tree needs at least one leaf');
  for (const leaf of leaves) if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_LENGTH) throw new RangeError(`a leaf is a ${HASH} value of ${HASH_LENGTH} octets`);
  const order = leaves.map((_, i) => i).sort((i, j) => compareHashes(leaves[i]!, leaves[j]!) || i - j);
  const levels: Uint8Array[][] = [order.map((i) => leaves[i]!)];
  while (levels[levels.length - 1]!.length > 1) {
    const level = levels[levels.length - 1]!;
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) up.push(branchHash([level[i]!, level[i + 1]!]));
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
  return { root: levels[levels.length - 1]![0]!, paths, levels };
}

/** The reduced hash tree of a leaf (the lists described above), or undefined for a lone leaf. */
export function reducedHashTree(leaf: Uint8Array, path: readonly Uint8Array[]): Uint8Array[][] | undefined {
  if (path.length === 0) return undefined;
  return [[leaf, path[0]!].sort(compareHashes), ...path.slice(1).map((h) => [h])];
}

/** The root RFC 4998 §4.3 computes from a reduced hash tree. */
export function recoverRoot(lists: readonly (readonly Uint8Array[])[]): Uint8Array {
  let h = branchHash(lists[0]!);
  for (const list of lists.slice(1)) h = branchHash([...list, h]);
  return h;
}

/** An ArchiveTimeStamp: the reduced hash tree (if any) and the token. */
export function encodeArchiveTimeStamp(lists: readonly (readonly Uint8Array[])[] | undefined, token: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  if (lists) parts.push(tlv(contextTag(2, true), concat(lists.map((list) => sequence(...list.map(octetString))))));
  parts.push(token);
  return sequence(...parts);
}

/** An EvidenceRecord v1 (SHA-256) over the given chains of encoded ArchiveTimeStamps. */
export function encodeEvidenceRecord(chains: readonly (readonly Uint8Array[])[]): Uint8Array {
  return sequence(integer(1), sequence(digestAlgorithmIdentifier(HASH)), sequence(...chains.map((chain) => sequence(...chain))));
}

export interface EvidenceRecords {
  root: Uint8Array;
  /** The TSA token over the root: one per tree. */
  token: Uint8Array;
  /** One DER EvidenceRecord per leaf, in the order the leaves were given. */
  records: Uint8Array[];
}

/** Builds the tree, has its root time-stamped once, and writes every leaf's record. */
export async function createEvidenceRecords(leaves: readonly Uint8Array[], stamper: DigestTimeStamper): Promise<EvidenceRecords> {
  const tree = buildHashTree(leaves);
  const token = await stamper.timestampDigest(tree.root);
  const records = leaves.map((leaf, i) => encodeEvidenceRecord([[encodeArchiveTimeStamp(reducedHashTree(leaf, tree.paths[i]!), token)]]));
  return { root: tree.root, token, records };
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
  chains: ArchiveTimeStampValue[][];
}

/** Reads a DER EvidenceRecord (structure only). Throws DerError when it is not one. */
export function parseEvidenceRecord(record: Uint8Array): EvidenceRecordValue {
  const root = readDer(record);
  const seq = new DerSequence(root, 'EvidenceRecord');
  const version = readSmallInteger(seq.next(Tag.INTEGER, 'version'), 'version');
  const algorithms = seq.next(Tag.SEQUENCE, 'digestAlgorithms').children.map((n) => readAlgorithmIdentifier(n, 'digestAlgorithms').oid);
  if (seq.optional(contextTag(0, true))) throw new DerError('EvidenceRecord: cryptoInfos are not supported');
  if (seq.optional(contextTag(1, true))) throw new DerError('EvidenceRecord: encryptionInfo is not supported');
  const sequenceNode = seq.next(Tag.SEQUENCE, 'archiveTimeStampSequence');
  seq.end();
  if (sequenceNode.children.length === 0) throw new DerError('EvidenceRecord: no ArchiveTimeStampChain');
  const chains = sequenceNode.children.map((chain) => {
    if (chain.tag !== Tag.SEQUENCE || chain.children.length === 0) throw new DerError('EvidenceRecord: an ArchiveTimeStampChain is not a non-empty SEQUENCE');
    return chain.children.map(readArchiveTimeStamp);
  });
  return { version, digestAlgorithmOids: algorithms, chains };
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

// ---------------------------------------------------------------------------------------------
// Renewal
// ---------------------------------------------------------------------------------------------

/** RFC 4998 §5.2 time-stamp renewal: the record with a new ArchiveTimeStamp at the end of its last chain. */
export async function renewTimeStamp(record: Uint8Array, stamper: DigestTimeStamper): Promise<Uint8Array> {
  const value = parseEvidenceRecord(record);
  const chain = value.chains[value.chains.length - 1]!;
  const hashes = chain.map((ats) => digest(HASH, ats.timeStamp));
  let ats: Uint8Array;
  if (hashes.length === 1) {
    ats = encodeArchiveTimeStamp(undefined, await stamper.timestampDigest(hashes[0]!));
  } else {
    const first = [...hashes].sort(compareHashes);
    ats = encodeArchiveTimeStamp([first], await stamper.timestampDigest(branchHash(first)));
  }
  const chains = value.chains.map((c) => c.map((a) => a.der));
  chains[chains.length - 1] = [...chains[chains.length - 1]!, ats];
  return encodeEvidenceRecord(chains);
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
 * | RECORD_STRUCTURE | DER, EvidenceRecord v1 with one chain, SHA-256 only, no cryptoInfos/encryptionInfo/attributes |
 * | PATH_NODES | every hash of every reduced hash tree is a SHA-256 value (32 octets) |
 * | LEAF_DIGEST | the leaf's digest is in the first list of the first ArchiveTimeStamp (or is its imprint when it has no tree): a tampered leaf, a record for another leaf |
 * | ROOT_IMPRINT | the root computed from the first ArchiveTimeStamp's reduced hash tree is its time-stamp's imprint: a wrong path node, a token for another tree |
 * | RENEWAL_CHAIN | each later ArchiveTimeStamp covers the previous one's timeStamp (§5.3), its root is its imprint, genTimes do not go back |
 * | TIMESTAMP_TOKEN | every token verifies (signature, ESS binding, TSA usage, path to a trust anchor), each at the next one's genTime, the last at `at` (not after its genTime) |
 */
export type EvidenceRecordCheckName = 'RECORD_STRUCTURE' | 'PATH_NODES' | 'LEAF_DIGEST' | 'ROOT_IMPRINT' | 'RENEWAL_CHAIN' | 'TIMESTAMP_TOKEN';

export interface EvidenceRecordCheck {
  name: EvidenceRecordCheckName;
  passed: boolean;
  detail: string;
}

export interface EvidenceRecordReport {
  valid: boolean;
  /** The first check that failed. */
  failedCheck?: EvidenceRecordCheckName;
  checks: EvidenceRecordCheck[];
  /** genTime of each ArchiveTimeStamp of the chain, when they parsed. */
  genTimes?: Date[];
}

export interface EvidenceRecordVerifyOptions {
  /** DER root certificates for the TSA certificates. */
  trustAnchors: Uint8Array[];
  /** The time at which the last time-stamp's TSA certificate must be valid; default now. */
  at?: Date;
  crypto?: Crypto;
}

/** The leaf: its SHA-256 digest, or the data whose SHA-256 it is. */
export type EvidenceLeaf = { digest: Uint8Array } | { data: Uint8Array };

/** Verifies a record for a leaf. Never throws. */
export async function verifyEvidenceRecord(record: Uint8Array, leaf: EvidenceLeaf, options: EvidenceRecordVerifyOptions): Promise<EvidenceRecordReport> {
  const checks: EvidenceRecordCheck[] = [];
  const pass = (name: EvidenceRecordCheckName, detail: string) => checks.push({ name, passed: true, detail });
  const fail = (name: EvidenceRecordCheckName, detail: string): EvidenceRecordReport => {
    checks.push({ name, passed: false, detail });
    return { valid: false, failedCheck: name, checks };
  };

  let value: EvidenceRecordValue;
  try {
    if (!(record instanceof Uint8Array)) return fail('RECORD_STRUCTURE', 'the record must be a byte array');
    value = parseEvidenceRecord(record);
  } catch (err) {
    return fail('RECORD_STRUCTURE', `not an RFC 4998 EvidenceRecord: ${(err as Error).message}`);
  }
  if (value.version !== 1) return fail('RECORD_STRUCTURE', `version ${value.version}, not v1(1)`);
  const sha256 = hashOid(HASH);
  if (value.digestAlgorithmOids.length !== 1 || value.digestAlgorithmOids[0] !== sha256) return fail('RECORD_STRUCTURE', `digestAlgorithms ${value.digestAlgorithmOids.join(', ')}, not SHA-256 alone`);
  if (value.chains.length !== 1) return fail('RECORD_STRUCTURE', `${value.chains.length} ArchiveTimeStampChains: hash-tree renewal is not supported yet`);
  const chain = value.chains[0]!;
  const infos = [];
  for (const [i, ats] of chain.entries()) {
    if (ats.digestAlgorithmOid !== undefined && ats.digestAlgorithmOid !== sha256) return fail('RECORD_STRUCTURE', `ArchiveTimeStamp ${i + 1}: digestAlgorithm ${ats.digestAlgorithmOid}, not SHA-256`);
    try {
      const info = parseTimeStampToken(ats.timeStamp);
      if (hashByOid(info.messageImprint.hashAlgorithmOid) !== HASH) return fail('RECORD_STRUCTURE', `ArchiveTimeStamp ${i + 1}: the time-stamp imprint is not SHA-256`);
      infos.push(info);
    } catch (err) {
      return fail('RECORD_STRUCTURE', `ArchiveTimeStamp ${i + 1}: the timeStamp is not a time-stamp token: ${(err as Error).message}`);
    }
  }
  pass('RECORD_STRUCTURE', `EvidenceRecord v1, SHA-256, one chain of ${chain.length} ArchiveTimeStamp${chain.length === 1 ? '' : 's'}`);
  const genTimes = infos.map((i) => i.genTime);

  for (const [i, ats] of chain.entries()) {
    const bad = ats.lists?.findIndex((list) => list.some((h) => h.length !== HASH_LENGTH)) ?? -1;
    if (bad >= 0) return { ...fail('PATH_NODES', `ArchiveTimeStamp ${i + 1}, PartialHashtree ${bad + 1}: a value is not a ${HASH} hash`), genTimes };
  }
  pass('PATH_NODES', 'every reduced hash tree holds SHA-256 values only');

  let leafDigest: Uint8Array;
  if ('digest' in leaf && leaf.digest instanceof Uint8Array) leafDigest = leaf.digest;
  else if ('data' in leaf && leaf.data instanceof Uint8Array) leafDigest = digest(HASH, leaf.data);
  else return { ...fail('LEAF_DIGEST', 'the leaf must be given as { digest } or { data }'), genTimes };

  const first = chain[0]!;
  const covers = (ats: ArchiveTimeStampValue, imprint: Uint8Array, h: Uint8Array) => (ats.lists ? ats.lists[0]!.some((x) => equalBytes(x, h)) : equalBytes(imprint, h));
  if (!covers(first, infos[0]!.messageImprint.hashedMessage, leafDigest)) {
    return { ...fail('LEAF_DIGEST', first.lists ? 'the leaf digest is not in the first list of the reduced hash tree' : 'the leaf digest is not the time-stamp imprint'), genTimes };
  }
  pass('LEAF_DIGEST', first.lists ? 'the leaf digest is in the first list of the reduced hash tree' : 'the leaf digest is the time-stamp imprint (a tree of one leaf)');

  const rootOf = (ats: ArchiveTimeStampValue, h: Uint8Array) => (ats.lists ? recoverRoot(ats.lists) : h);
  if (!equalBytes(rootOf(first, leafDigest), infos[0]!.messageImprint.hashedMessage)) {
    return { ...fail('ROOT_IMPRINT', `the root computed from the reduced hash tree (${first.lists?.length ?? 0} lists) is not the time-stamp imprint`), genTimes };
  }
  pass('ROOT_IMPRINT', 'the root computed from the reduced hash tree is the time-stamp imprint');

  for (let i = 1; i < chain.length; i++) {
    const previous = digest(HASH, chain[i - 1]!.timeStamp);
    const imprint = infos[i]!.messageImprint.hashedMessage;
    if (!covers(chain[i]!, imprint, previous)) return { ...fail('RENEWAL_CHAIN', `ArchiveTimeStamp ${i + 1} does not cover the time-stamp of ArchiveTimeStamp ${i}`), genTimes };
    if (!equalBytes(rootOf(chain[i]!, previous), imprint)) return { ...fail('RENEWAL_CHAIN', `ArchiveTimeStamp ${i + 1}: the root of its reduced hash tree is not its time-stamp imprint`), genTimes };
    if (genTimes[i]! < genTimes[i - 1]!) return { ...fail('RENEWAL_CHAIN', `ArchiveTimeStamp ${i + 1} is older than ArchiveTimeStamp ${i}`), genTimes };
  }
  if (chain.length > 1) pass('RENEWAL_CHAIN', `each of ${chain.length - 1} renewal${chain.length === 2 ? '' : 's'} covers the previous time-stamp`);

  const last = options?.at ?? new Date();
  if (genTimes[genTimes.length - 1]! > last) return { ...fail('TIMESTAMP_TOKEN', `the last time-stamp's genTime ${genTimes[genTimes.length - 1]!.toISOString()} is after ${last.toISOString()}`), genTimes };
  const anchors = Array.isArray(options?.trustAnchors) ? options.trustAnchors : [];
  for (const [i, ats] of chain.entries()) {
    const at = i + 1 < chain.length ? genTimes[i + 1]! : last;
    const token = await verifyTimeStampToken(ats.timeStamp, new Uint8Array(0), { trustAnchors: anchors, at, ...(options?.crypto ? { crypto: options.crypto } : {}) });
    const failed = token.checks.find((c) => !c.passed && c.name !== 'TIMESTAMP_IMPRINT');
    if (failed) return { ...fail('TIMESTAMP_TOKEN', `ArchiveTimeStamp ${i + 1}: ${failed.name}: ${failed.detail}`), genTimes };
  }
  pass('TIMESTAMP_TOKEN', `${chain.length} time-stamp token${chain.length === 1 ? '' : 's'} verified, the last at ${last.toISOString()}`);
  return { valid: true, checks, genTimes };
}

// ---------------------------------------------------------------------------------------------
// A record from a stored tree
// ---------------------------------------------------------------------------------------------

/**
 * The value the next time-stamp renewal (§5.2) of a chain of tokens must cover: SHA-256 of the
 * only token after the first one, else the hash of the sorted SHA-256 values of them all — what
 * `renewTimeStamp` asks its stamper for. It is the same for every leaf of a tree.
 */
export function renewalImprint(tokens: readonly Uint8Array[]): Uint8Array {
  if (tokens.length === 0) throw new RangeError('a renewal needs at least one time-stamp');
  const hashes = tokens.map((t) => digest(HASH, t));
  return hashes.length === 1 ? hashes[0]! : branchHash(hashes);
}

/**
 * The record of one leaf of a tree, from the leaf, its path (`buildHashTree(...).paths[i]`) and
 * the tree's tokens: the archive time-stamp over the root, then each renewal. Byte for byte what
 * `createEvidenceRecords` then `renewTimeStamp` for each later token write.
 */
export function evidenceRecordFromTree(leaf: Uint8Array, path: readonly Uint8Array[], tokens: readonly Uint8Array[]): Uint8Array {
  if (tokens.length === 0) throw new RangeError('a record needs the time-stamp over its root');
  const chain = tokens.map((token, i) => {
    if (i === 0) return encodeArchiveTimeStamp(reducedHashTree(leaf, path), token);
    if (i === 1) return encodeArchiveTimeStamp(undefined, token);
    return encodeArchiveTimeStamp([tokens.slice(0, i).map((t) => digest(HASH, t)).sort(compareHashes)], token);
  });
  return encodeEvidenceRecord([chain]);
}
