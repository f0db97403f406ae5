/**
 * The tamper-evident event log. Every event row carries the SHA-256 of the previous
 * row's hash together with its own content:
 *
 *   hash(n) = SHA-256( prevHash(n) ‖ 0x0A ‖ JCS({seq, messageId, type, at, data}) )
 *   prevHash(1) = 64 × "0"
 *
 * (JCS = RFC 8785 canonical JSON, hashes as lower-case hex.) Editing a row changes its
 * hash; deleting one breaks the next row's prevHash; checkpoints — the head hash
 * time-stamped by a TSA — pin the chain so that rewriting it wholesale is detectable too.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './CanonicalJson.js';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedEvent {
  seq: number;
  messageId: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export function eventHash(prevHash: string, e: Pick<ChainedEvent, 'seq' | 'messageId' | 'type' | 'at' | 'data'>): string {
  const body = canonicalJson({ seq: e.seq, messageId: e.messageId, type: e.type, at: e.at, data: e.data });
  return createHash('sha256').update(prevHash + '\n' + body, 'utf8').digest('hex');
}

/**
 * The canonical JSON `eventHash` hashes, as the text before and after the row's `seq`:
 * `before + seq + after` is that JSON for any integer `seq`. JCS orders the keys at, data,
 * messageId, seq, type, so `seq` sits just before the last key, `type`. For a store that
 * numbers and chains the rows itself (PostgreSQL's append_events).
 */
export function eventBodyAroundSeq(e: Pick<ChainedEvent, 'messageId' | 'type' | 'at' | 'data'>): { before: string; after: string } {
  const withoutSeq = canonicalJson({ messageId: e.messageId, type: e.type, at: e.at, data: e.data })!;
  const after = `,"type":${canonicalJson(e.type)!}}`;
  if (!withoutSeq.endsWith(after)) throw new Error('event body: "type" is not the last key');
  return { before: `${withoutSeq.slice(0, -after.length)},"seq":`, after };
}

export type ChainBreak =
  | { kind: 'PREV_HASH_MISMATCH'; seq: number; detail: string }
  | { kind: 'HASH_MISMATCH'; seq: number; detail: string }
  | { kind: 'SEQUENCE_GAP'; seq: number; detail: string };

/**
 * Checks a run of consecutive events. `expectedPrev` is the hash the first row must
 * chain from (GENESIS_HASH for the log's first row). Returns the first break, if any.
 */
export function verifyEventChain(events: ChainedEvent[], expectedPrev: string = GENESIS_HASH): ChainBreak | undefined {
  let prev = expectedPrev;
  let lastSeq: number | undefined;
  for (const e of events) {
    if (lastSeq !== undefined && e.seq !== lastSeq + 1) {
      return { kind: 'SEQUENCE_GAP', seq: e.seq, detail: `row ${e.seq} follows row ${lastSeq}: rows ${lastSeq + 1}..${e.seq - 1} are missing` };
    }
    if (e.prevHash !== prev) return { kind: 'PREV_HASH_MISMATCH', seq: e.seq, detail: `row ${e.seq} does not chain from the row before it` };
    const h = eventHash(e.prevHash, e);
    if (h !== e.hash) return { kind: 'HASH_MISMATCH', seq: e.seq, detail: `row ${e.seq}'s content does not match its hash` };
    prev = e.hash;
    lastSeq = e.seq;
  }
  return undefined;
}

/**
 * What a checkpoint's time-stamp token covers: its imprint is SHA-256 over the UTF-8
 * bytes of `"<seq>:<hash>"` of the head row it pins.
 */
export function checkpointImprintData(seq: number, hash: string): Uint8Array {
  return new TextEncoder().encode(`${seq}:${hash}`);
}
