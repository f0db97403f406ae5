/**
 * newRowId (src/domain/RowId.ts): UUIDs of version 7 (RFC 9562, §5.7) that sort in the order
 * they were made, carry the millisecond they were made in, and keep their random bits.
 */
import { expect } from 'chai';
import { newRowId } from '../../src/domain/RowId.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** the 48-bit Unix time in milliseconds of a version 7 UUID (RFC 9562, §5.7: unix_ts_ms) */
const millisOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

describe('row identifiers (UUID version 7)', () => {
  it('are UUIDs of version 7 and of the RFC 9562 variant', () => {
    for (let i = 0; i < 1000; i++) expect(newRowId()).to.match(V7);
  });

  it('sort, as text, in the order they were made, within one millisecond too', () => {
    const ids = Array.from({ length: 20_000 }, () => newRowId());
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} then ${ids[i]}`).to.equal(true);
    // 20,000 in a row take a few milliseconds at most: many share one, and still sort
    expect(new Set(ids.map(millisOf)).size).to.be.lessThan(ids.length);
  });

  it('carry the millisecond they were made in', async () => {
    const before = Date.now();
    const id = newRowId();
    const after = Date.now();
    expect(millisOf(id)).to.be.within(before, after);
    await new Promise((r) => setTimeout(r, 5));
    expect(millisOf(newRowId())).to.be.greaterThan(millisOf(id));
  });

  it('keep random bits: the last 42 differ between identifiers made one after the other', () => {
    // rand_b's last 42 bits are fresh for each identifier (the counter is in the bits before)
    const tails = new Set(Array.from({ length: 10_000 }, () => newRowId().replace(/-/g, '').slice(-11)));
    expect(tails.size).to.equal(10_000);
  });
});
