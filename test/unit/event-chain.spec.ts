import { createHash } from 'node:crypto';
import { expect } from 'chai';
import canonicalize from 'canonicalize';
import { eventBodyAroundSeq, eventHash, GENESIS_HASH, verifyEventChain, type ChainedEvent } from '../../src/domain/EventChain.js';

function chain(n: number): ChainedEvent[] {
  const out: ChainedEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = { seq, messageId: `m${seq % 3}`, type: 'T', at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), data: { n: seq } };
    const hash = eventHash(prev, e);
    out.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('event hash chain', () => {
  it('verifies an intact chain, and a later slice given the hash it starts from', () => {
    const c = chain(10);
    expect(verifyEventChain(c)).to.equal(undefined);
    expect(verifyEventChain(c.slice(4), c[3]!.hash)).to.equal(undefined);
  });

  it('hashes content canonically (key order does not matter) and any change matters', () => {
    const e = { seq: 1, messageId: 'm', type: 'T', at: 'x', data: { a: 1, b: 2 } };
    expect(eventHash(GENESIS_HASH, e)).to.equal(eventHash(GENESIS_HASH, { ...e, data: { b: 2, a: 1 } }));
    expect(eventHash(GENESIS_HASH, e)).to.not.equal(eventHash(GENESIS_HASH, { ...e, data: { a: 1, b: 3 } }));
    expect(eventHash(GENESIS_HASH, e)).to.not.equal(eventHash('1'.repeat(64), e));
  });

  it('gives the canonical JSON around seq, for a store that numbers the rows itself (PostgreSQL), whatever the data holds', () => {
    const events = [
      { messageId: 'm', type: 'MessageReceived', at: '2026-12-04T10:00:00.000Z', data: { documents: [{ partName: 'main', sha256: 'ab', size: 1 }] } },
      // a "seq" and a "type" inside the data, and text JCS escapes
      { messageId: 'm', type: 'Odd', at: 'x', data: { seq: 5, type: 'T', '"seq":': 'é\u2028\n', z: [1.5, -0, 1e21] } },
      { messageId: 'm', type: 'Ünïcode "quoted"', at: 'x', data: {} },
    ];
    for (const e of events) {
      const { before, after } = eventBodyAroundSeq(e);
      for (const seq of [1, 42, 9_007_199_254_740_991]) {
        expect(before + seq + after).to.equal(canonicalize({ seq, ...e }));
        // what append_events hashes: prevHash, a newline, then that text
        const hash = createHash('sha256').update(`${GENESIS_HASH}\n${before}${seq}${after}`, 'utf8').digest('hex');
        expect(hash).to.equal(eventHash(GENESIS_HASH, { seq, ...e }));
      }
    }
  });

  it('names the first row that breaks', () => {
    const c = chain(10);
    const edited = c.map((e) => (e.seq === 6 ? { ...e, at: '2030-01-01T00:00:00.000Z' } : e));
    expect(verifyEventChain(edited)).to.deep.include({ kind: 'HASH_MISMATCH', seq: 6 });
    const rehashed = edited.map((e) => (e.seq === 6 ? { ...e, hash: eventHash(e.prevHash, e) } : e));
    expect(verifyEventChain(rehashed)).to.deep.include({ kind: 'PREV_HASH_MISMATCH', seq: 7 });
    expect(verifyEventChain(c.filter((e) => e.seq !== 3))).to.deep.include({ kind: 'SEQUENCE_GAP', seq: 4 });
    expect(verifyEventChain(c.slice(1))).to.deep.include({ kind: 'PREV_HASH_MISMATCH', seq: 2 });
  });
});
