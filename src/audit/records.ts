/**
 * The auditor's check of an RFC 4998 evidence record that goes with a proof
 * (docs/evidence-records.md, "Auditor side"): the record's leaf is the SHA-256 of the proof
 * file's bytes, and a valid record is a proof of existence (POE) of those bytes at the genTime
 * of its first archive time-stamp.
 *
 * Verifying many records of one tree (`verify --dir` on an export bundle) checks the same
 * archive time-stamp tokens again and again; only the leaf's path to the tree's root differs
 * from one proof to the next. So a record of one ArchiveTimeStampChain is verified in two
 * parts, which together are exactly `verifyEvidenceRecord`'s checks:
 *
 * - **the chain of the tree**: the record of the first root alone — the first ArchiveTimeStamp
 *   without its reduced hash tree, then the renewals as they are — verified by
 *   `verifyEvidenceRecord` with the first token's imprint as its leaf (RECORD_STRUCTURE,
 *   PATH_NODES of the renewals, RENEWAL_CHAIN, TIMESTAMP_TOKEN). Every record of the tree has
 *   the same such chain, so its outcome is kept by the chain's SHA-256 (and the validation
 *   time): each distinct chain of tokens is verified once per verifier, not once per proof;
 * - **the leaf's path**: PATH_NODES, LEAF_DIGEST and ROOT_IMPRINT of the first ArchiveTimeStamp
 *   (RFC 4998 §4.3: the leaf in the first list, the root computed from the lists is the first
 *   token's imprint), a few hashes per proof.
 *
 * Any other record (more than one chain, a digestAlgorithm in the first ArchiveTimeStamp, or
 * not readable) is given to `verifyEvidenceRecord` whole, uncached.
 */
import { createHash } from 'node:crypto';
import {
  certificateInfo,
  encodeArchiveTimeStamp,
  encodeEvidenceRecord,
  parseEvidenceRecord,
  parseTimeStampToken,
  recoverRoot,
  verifyEvidenceRecord,
  type EvidenceRecordCheck,
  type EvidenceRecordReport,
} from '../crypto/index.js';

/** Distinct archive time-stamp chains whose outcome a verifier keeps (a bundle has one per tree). */
const MAX_CACHED_CHAINS = 4096;
const HASH_LENGTH = 32;
/** SHA-256's OID: the one digest algorithm of a record the fast path takes. */
const SHA256_OID = '2.16.840.1.101.3.4.2.1';

export interface EvidenceRecordVerifierOptions {
  /** DER root certificates for the archive time-stamps' TSA certificates. */
  trustAnchors: Uint8Array[];
  /** The validation time: the last archive time-stamp's TSA certificate must be valid then. Fixed for the verifier's life (default: when it is made). */
  at?: Date;
}

const sha256 = (bytes: Uint8Array) => new Uint8Array(createHash('sha256').update(bytes).digest());
const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** What a verifier keeps of a chain: its outcome, the first token's imprint (the tree's root), the tokens' genTimes and TSAs. */
interface ChainOutcome {
  report: EvidenceRecordReport;
  imprint?: Uint8Array;
  timeStamps: ArchiveTimeStampSummary[];
}

/** The report `verifyEvidenceRecord` gives, with each archive time-stamp's genTime and TSA for the auditor's report. */
export type RecordOutcome = EvidenceRecordReport & { timeStamps: ArchiveTimeStampSummary[] };

/** Verifies evidence records against fixed trust anchors and a fixed time, keeping the outcome of each archive time-stamp chain. */
export class EvidenceRecordVerifier {
  readonly at: Date;
  private readonly trustAnchors: Uint8Array[];
  private readonly chains = new Map<string, Promise<ChainOutcome>>();
  /** How many archive time-stamp chains were verified (each distinct one once): for tests and measurements. */
  chainsVerified = 0;

  constructor(options: EvidenceRecordVerifierOptions) {
    this.trustAnchors = options.trustAnchors;
    this.at = options.at ?? new Date();
  }

  /** `verifyEvidenceRecord(record, { data: proof }, …)`'s report, and the archive time-stamps' genTimes and TSAs. Never throws. */
  async verify(record: Uint8Array, proof: Uint8Array): Promise<RecordOutcome> {
    const leaf = sha256(proof);
    const whole = async (): Promise<RecordOutcome> => ({
      ...(await verifyEvidenceRecord(record, { data: proof }, { trustAnchors: this.trustAnchors, at: this.at })),
      timeStamps: archiveTimeStamps(record),
    });
    let chain;
    try {
      const value = parseEvidenceRecord(record);
      // the fast path is for a SHA-256 record of one chain (what the service writes before any hash-tree renewal)
      if (value.chains.length !== 1 || value.chains[0]![0]!.digestAlgorithmOid !== undefined || value.digestAlgorithmOids.join() !== SHA256_OID) return await whole();
      chain = value.chains[0]!;
    } catch {
      return whole(); // names the structure failure, before any token is verified
    }
    const first = chain[0]!;
    const { report: tree, imprint, timeStamps } = await this.chain(first.timeStamp, chain.slice(1).map((ats) => ats.der));
    // The first check that fails names the outcome, in verifyEvidenceRecord's order.
    const structure = tree.checks.find((c) => c.name === 'RECORD_STRUCTURE');
    if (!structure?.passed || !imprint) return { ...tree, timeStamps };
    const algorithm = tree.checks.find((c) => c.name === 'DIGEST_ALGORITHM');
    if (algorithm && !algorithm.passed) return { ...tree, timeStamps };
    const checks: EvidenceRecordCheck[] = algorithm ? [structure, algorithm] : [structure];
    const genTimes = tree.genTimes ? { genTimes: tree.genTimes } : {};
    const fail = (check: EvidenceRecordCheck): RecordOutcome => ({ valid: false, failedCheck: check.name, checks: [...checks, check], ...genTimes, timeStamps });
    const lists = first.lists;
    const bad = lists?.findIndex((list) => list.some((h) => h.length !== HASH_LENGTH)) ?? -1;
    if (bad >= 0) return fail({ name: 'PATH_NODES', passed: false, detail: `ArchiveTimeStamp 1, PartialHashtree ${bad + 1}: a value is not a SHA-256 hash` });
    const renewalNodes = tree.checks.find((c) => c.name === 'PATH_NODES');
    if (renewalNodes && !renewalNodes.passed) return { ...tree, checks: [...checks, renewalNodes], timeStamps };
    checks.push({ name: 'PATH_NODES', passed: true, detail: 'every reduced hash tree holds SHA-256 values only' });
    if (lists ? !lists[0]!.some((h) => equal(h, leaf)) : !equal(leaf, imprint)) {
      return fail({ name: 'LEAF_DIGEST', passed: false, detail: lists ? 'the leaf digest is not in the first list of the reduced hash tree' : 'the leaf digest is not the time-stamp imprint' });
    }
    checks.push({ name: 'LEAF_DIGEST', passed: true, detail: lists ? 'the leaf digest is in the first list of the reduced hash tree' : 'the leaf digest is the time-stamp imprint (a tree of one leaf)' });
    if (lists && !equal(recoverRoot(lists), imprint)) return fail({ name: 'ROOT_IMPRINT', passed: false, detail: `the root computed from the reduced hash tree (${lists.length} lists) is not the time-stamp imprint` });
    checks.push({ name: 'ROOT_IMPRINT', passed: true, detail: 'the root computed from the reduced hash tree is the time-stamp imprint' });
    // The rest (RENEWAL_CHAIN, TIMESTAMP_TOKEN) is the chain's.
    const rest = tree.checks.filter((c) => c.name === 'RENEWAL_CHAIN' || c.name === 'TIMESTAMP_TOKEN');
    return { ...tree, checks: [...checks, ...rest], timeStamps };
  }

  /** The outcome of the chain made of the first token and the renewals (encoded ArchiveTimeStamps), verified on its first request. */
  private chain(firstToken: Uint8Array, renewals: Uint8Array[]): Promise<ChainOutcome> {
    const hash = createHash('sha256');
    for (const part of [firstToken, ...renewals]) hash.update(Buffer.from(Uint32Array.of(part.length).buffer)).update(part);
    const key = hash.digest('hex');
    let outcome = this.chains.get(key);
    if (!outcome) {
      if (this.chains.size >= MAX_CACHED_CHAINS) this.chains.delete(this.chains.keys().next().value!);
      this.chainsVerified++;
      outcome = this.verifyChain(firstToken, renewals);
      this.chains.set(key, outcome);
    }
    return outcome;
  }

  private async verifyChain(firstToken: Uint8Array, renewals: Uint8Array[]): Promise<ChainOutcome> {
    // The record of the tree's root alone: the first ArchiveTimeStamp without its reduced hash tree, then the renewals.
    const rootRecord = encodeEvidenceRecord([[encodeArchiveTimeStamp(undefined, firstToken), ...renewals]]);
    let imprint: Uint8Array | undefined;
    try {
      imprint = parseTimeStampToken(firstToken).messageImprint.hashedMessage;
    } catch {
      imprint = undefined; // RECORD_STRUCTURE fails below and names it
    }
    const report = await verifyEvidenceRecord(rootRecord, { digest: imprint ?? new Uint8Array(HASH_LENGTH) }, { trustAnchors: this.trustAnchors, at: this.at });
    return { report, ...(imprint ? { imprint } : {}), timeStamps: archiveTimeStamps(rootRecord) };
  }
}

export interface ArchiveTimeStampSummary {
  genTime: string;
  /** The TSA certificate's subject, when the token carries it. */
  tsa?: string;
}

/** genTime and TSA of each archive time-stamp of a record, for the report (structure only; empty when it does not parse). */
export function archiveTimeStamps(record: Uint8Array): ArchiveTimeStampSummary[] {
  try {
    return parseEvidenceRecord(record).chains.flatMap((chain) =>
      chain.map((ats) => {
        const token = parseTimeStampToken(ats.timeStamp);
        let tsa: string | undefined;
        try {
          if (token.tsaCertificate) tsa = certificateInfo(token.tsaCertificate).subject;
        } catch {
          tsa = undefined;
        }
        return { genTime: token.genTime.toISOString(), ...(tsa ? { tsa } : {}) };
      }),
    );
  } catch {
    return [];
  }
}
