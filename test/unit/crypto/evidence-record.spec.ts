/**
 * RFC 4998 evidence records (src/crypto/EvidenceRecord.ts): the tree and its ordering rule
 * recomputed independently, records for every leaf of trees of many sizes, time-stamp
 * renewal, and each failure named by the verifier.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { readDer } from '../../../src/crypto/der.js';
import {
  buildHashTree,
  createEvidenceRecords,
  encodeArchiveTimeStamp,
  encodeEvidenceRecord,
  parseEvidenceRecord,
  recoverRoot,
  reducedHashTree,
  renewTimeStamp,
  verifyEvidenceRecord,
} from '../../../src/crypto/EvidenceRecord.js';
import { createDevPki, LocalTimeStamper, parseTimeStampToken, TimeStampAuthority } from '../../../src/crypto/index.js';
import { devPki } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.4998';
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = (n: number) => Array.from({ length: n }, () => sha256(randomBytes(16)));

/** Independent reading of RFC 4998 §4.2 with Buffer.compare: sort, pair, carry the odd one up. */
function referenceRoot(digests: Uint8Array[]): Uint8Array {
  let level = [...digests].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  while (level.length > 1) {
    const up: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      const pair = [level[i]!, level[i + 1]!].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      up.push(sha256(Buffer.concat(pair)));
    }
    if (level.length % 2) up.push(level[level.length - 1]!);
    level = up;
  }
  return level[0]!;
}

/** A copy of `record` with the first occurrence of `value` changed in its last octet. */
function flip(record: Uint8Array, value: Uint8Array): Uint8Array {
  const at = Buffer.from(record).indexOf(Buffer.from(value));
  if (at < 0) throw new Error('value not in the record');
  const out = Uint8Array.from(record);
  out[at + value.length - 1]! ^= 0x01;
  return out;
}

describe('RFC 4998 evidence records', function () {
  let stamper: LocalTimeStamper;
  let trustAnchors: Uint8Array[];
  let otherAnchors: Uint8Array[];

  before(async () => {
    const pki = await devPki('ECDSA-P256');
    stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }));
    trustAnchors = [pki.root.certificate];
    otherAnchors = [(await devPki('ECDSA-P384')).root.certificate];
  });

  describe('hash tree', () => {
    it('orders as RFC 4998 §4.2 says: binary ascending at every node, whatever the input order', () => {
      const [a, b, c] = leaves(3);
      const sorted = [a!, b!, c!].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const pair = sha256(Buffer.concat([sorted[0]!, sorted[1]!]));
      const top = [pair, sorted[2]!].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
      const expected = sha256(Buffer.concat(top));
      expect(hex(buildHashTree([a!, b!, c!]).root)).to.equal(hex(expected));
      expect(hex(buildHashTree([c!, a!, b!]).root)).to.equal(hex(expected));
    });

    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 100]) {
      it(`every leaf's reduced hash tree leads to the root (${n} leaves)`, () => {
        const ds = leaves(n);
        const tree = buildHashTree(ds);
        expect(hex(tree.root)).to.equal(hex(referenceRoot(ds)));
        ds.forEach((d, i) => {
          const lists = reducedHashTree(d, tree.paths[i]!);
          if (n === 1) {
            expect(lists).to.equal(undefined);
            return;
          }
          expect(lists![0]!.length, 'a first list never holds one hash alone').to.equal(2);
          expect(lists![0]!.some((h) => hex(h) === hex(d))).to.equal(true);
          for (const list of lists!.slice(1)) expect(list).to.have.length(1);
          expect(hex(recoverRoot(lists!))).to.equal(hex(tree.root));
        });
      });
    }

    it('refuses no leaves and values that are not SHA-256 digests', () => {
      expect(() => buildHashTree([])).to.throw(RangeError);
      expect(() => buildHashTree([new Uint8Array(31)])).to.throw(RangeError);
    });
  });

  describe('records', () => {
    for (const n of [1, 2, 5, 8, 13]) {
      it(`one token for the tree, a record per leaf that verifies (${n} leaves)`, async () => {
        const ds = leaves(n);
        const out = await createEvidenceRecords(ds, stamper);
        expect(out.records).to.have.length(n);
        for (const [i, record] of out.records.entries()) {
          expect(() => readDer(record)).to.not.throw();
          const parsed = parseEvidenceRecord(record);
          expect(parsed.chains).to.have.length(1);
          expect(parsed.chains[0]).to.have.length(1);
          expect(hex(parsed.chains[0]![0]!.timeStamp)).to.equal(hex(out.token));
          const report = await verifyEvidenceRecord(record, { digest: ds[i]! }, { trustAnchors });
          expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
          expect(report.checks.map((c) => c.name)).to.deep.equal(['RECORD_STRUCTURE', 'PATH_NODES', 'LEAF_DIGEST', 'ROOT_IMPRINT', 'TIMESTAMP_TOKEN']);
        }
      });
    }

    it('accepts the data instead of its digest', async () => {
      const data = new TextEncoder().encode('a proof');
      const out = await createEvidenceRecords([sha256(data), ...leaves(2)], stamper);
      expect((await verifyEvidenceRecord(out.records[0]!, { data }, { trustAnchors })).valid).to.equal(true);
      expect((await verifyEvidenceRecord(out.records[0]!, { data: new TextEncoder().encode('a proof!') }, { trustAnchors })).failedCheck).to.equal('LEAF_DIGEST');
    });
  });

  describe('failures are named', () => {
    it('a tampered leaf: LEAF_DIGEST', async () => {
      const ds = leaves(6);
      const out = await createEvidenceRecords(ds, stamper);
      const tampered = Uint8Array.from(ds[3]!);
      tampered[0]! ^= 0x80;
      const report = await verifyEvidenceRecord(out.records[3]!, { digest: tampered }, { trustAnchors });
      expect(report.valid).to.equal(false);
      expect(report.failedCheck).to.equal('LEAF_DIGEST');
    });

    it('a record for another proof, of the same tree or of a lone leaf: LEAF_DIGEST', async () => {
      const ds = leaves(5);
      const out = await createEvidenceRecords(ds, stamper);
      // a leaf's first list also holds its sibling's digest (RFC 4998 §4.2), so the record proves
      // that one too: the other proof is any leaf but those two
      const sibling = hex(buildHashTree(ds).paths[1]![0]!);
      const others = ds.filter((d, i) => i !== 1 && hex(d) !== sibling);
      expect(others.length).to.be.oneOf([3, 4]);
      for (const other of others) expect((await verifyEvidenceRecord(out.records[1]!, { digest: other }, { trustAnchors })).failedCheck).to.equal('LEAF_DIGEST');
      expect((await verifyEvidenceRecord(out.records[1]!, { digest: buildHashTree(ds).paths[1]![0]! }, { trustAnchors })).valid).to.equal(true);
      const alone = await createEvidenceRecords(leaves(1), stamper);
      expect((await verifyEvidenceRecord(alone.records[0]!, { digest: ds[0]! }, { trustAnchors })).failedCheck).to.equal('LEAF_DIGEST');
    });

    it('a wrong path node, in the first list or higher up: ROOT_IMPRINT', async () => {
      const ds = leaves(9);
      const out = await createEvidenceRecords(ds, stamper);
      const tree = buildHashTree(ds);
      const leaf = tree.paths.findIndex((p) => p.length === 4); // not the odd ninth, whose path is one node
      const path = tree.paths[leaf]!;
      for (const node of [path[0]!, path[1]!, path[path.length - 1]!]) {
        const report = await verifyEvidenceRecord(flip(out.records[leaf]!, node), { digest: ds[leaf]! }, { trustAnchors });
        expect(report.failedCheck, JSON.stringify(report.checks)).to.equal('ROOT_IMPRINT');
      }
    });

    it("another tree's time-stamp over a record's path: ROOT_IMPRINT", async () => {
      const ds = leaves(4);
      const out = await createEvidenceRecords(ds, stamper);
      expect((await verifyEvidenceRecord(out.records[0]!, { digest: ds[0]! }, { trustAnchors })).valid).to.equal(true);
      const other = await createEvidenceRecords(leaves(4), stamper);
      const tree = buildHashTree(ds);
      const forged = encodeEvidenceRecord([[encodeArchiveTimeStamp(reducedHashTree(ds[0]!, tree.paths[0]!), other.token)]]);
      expect((await verifyEvidenceRecord(forged, { digest: ds[0]! }, { trustAnchors })).failedCheck).to.equal('ROOT_IMPRINT');
    });

    it('a path node that is not a SHA-256 value: PATH_NODES', async () => {
      const ds = leaves(3);
      const out = await createEvidenceRecords(ds, stamper);
      const tree = buildHashTree(ds);
      const lists = reducedHashTree(ds[0]!, tree.paths[0]!)!;
      const forged = encodeEvidenceRecord([[encodeArchiveTimeStamp([...lists, [new Uint8Array(20)]], out.token)]]);
      expect((await verifyEvidenceRecord(forged, { digest: ds[0]! }, { trustAnchors })).failedCheck).to.equal('PATH_NODES');
    });

    it('not a record: RECORD_STRUCTURE', async () => {
      const out = await createEvidenceRecords(leaves(2), stamper);
      const truncated = out.records[0]!.subarray(0, out.records[0]!.length - 1);
      for (const bad of [truncated, new Uint8Array(0), out.token]) {
        expect((await verifyEvidenceRecord(bad, { digest: new Uint8Array(32) }, { trustAnchors })).failedCheck).to.equal('RECORD_STRUCTURE');
      }
    });

    it('a TSA that does not chain to the trust anchors: TIMESTAMP_TOKEN', async () => {
      const ds = leaves(2);
      const out = await createEvidenceRecords(ds, stamper);
      const report = await verifyEvidenceRecord(out.records[0]!, { digest: ds[0]! }, { trustAnchors: otherAnchors });
      expect(report.failedCheck).to.equal('TIMESTAMP_TOKEN');
      expect(report.checks.filter((c) => c.passed).map((c) => c.name)).to.include('ROOT_IMPRINT');
    });
  });

  it('validates the last token at the date asked, and not before the tree was time-stamped: TIMESTAMP_TOKEN', async () => {
    const ds = leaves(3);
    const out = await createEvidenceRecords(ds, stamper);
    const { genTime } = parseTimeStampToken(out.token);
    expect((await verifyEvidenceRecord(out.records[1]!, { digest: ds[1]! }, { trustAnchors, at: new Date(genTime.getTime() + 1000) })).valid).to.equal(true);
    const early = await verifyEvidenceRecord(out.records[1]!, { digest: ds[1]! }, { trustAnchors, at: new Date(genTime.getTime() - 1000) });
    expect(early.failedCheck).to.equal('TIMESTAMP_TOKEN');
    const late = await verifyEvidenceRecord(out.records[1]!, { digest: ds[1]! }, { trustAnchors, at: new Date('2199-01-01T00:00:00Z') });
    expect(late.failedCheck, 'the development TSA certificate has expired by then').to.equal('TIMESTAMP_TOKEN');
  });

  describe('time-stamp renewal (RFC 4998 §5.2)', () => {
    it('adds ArchiveTimeStamps over the previous time-stamps; the record stays valid', async () => {
      const ds = leaves(7);
      const out = await createEvidenceRecords(ds, stamper);
      const once = await renewTimeStamp(out.records[4]!, stamper);
      const twice = await renewTimeStamp(once, stamper);
      const thrice = await renewTimeStamp(twice, stamper);
      const chain = parseEvidenceRecord(thrice).chains[0]!;
      expect(chain).to.have.length(4);
      expect(chain[1]!.lists, 'the first renewal is over the previous token alone').to.equal(undefined);
      expect(chain[2]!.lists![0]).to.have.length(2);
      expect(chain[3]!.lists![0]).to.have.length(3);
      for (const record of [once, twice, thrice]) {
        expect(() => readDer(record)).to.not.throw();
        const report = await verifyEvidenceRecord(record, { digest: ds[4]! }, { trustAnchors });
        expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
        expect(report.checks.map((c) => c.name)).to.include('RENEWAL_CHAIN');
      }
    });

    it('keeps a record valid past its first TSA certificate, renewed before that expired', async () => {
      // TSA A: certificate 1999-12-31 to 2010-01-01; TSA B: 2008-12-31 to 2019-01-01
      const a = await createDevPki('ECDSA-P256', { now: new Date('2000-01-01T00:00:00Z') });
      const b = await createDevPki('ECDSA-P256', { now: new Date('2009-01-01T00:00:00Z') });
      const stampA = new LocalTimeStamper(new TimeStampAuthority(a.tsa, { policyOid: POLICY, clock: () => new Date('2000-06-01T00:00:00Z') }));
      const stampB = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2009-06-01T00:00:00Z') }));
      const ds = leaves(5);
      const record = (await createEvidenceRecords(ds, stampA)).records[3]!;
      const renewed = await renewTimeStamp(record, stampB);
      const anchors = [a.root.certificate, b.root.certificate];
      const at = new Date('2015-01-01T00:00:00Z');
      const report = await verifyEvidenceRecord(renewed, { digest: ds[3]! }, { trustAnchors: anchors, at });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.genTimes!.map((d) => d.toISOString())).to.deep.equal(['2000-06-01T00:00:00.000Z', '2009-06-01T00:00:00.000Z']);
      const unrenewed = await verifyEvidenceRecord(record, { digest: ds[3]! }, { trustAnchors: anchors, at });
      expect(unrenewed.failedCheck).to.equal('TIMESTAMP_TOKEN');
      // renewed too late: TSA A's certificate had expired when B time-stamped
      const late = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2012-01-01T00:00:00Z') }));
      const tooLate = await verifyEvidenceRecord(await renewTimeStamp(record, late), { digest: ds[3]! }, { trustAnchors: anchors, at });
      expect(tooLate.failedCheck).to.equal('TIMESTAMP_TOKEN');
      expect(tooLate.checks.at(-1)!.detail).to.match(/^ArchiveTimeStamp 1: /);
    });

    it('a renewal over another time-stamp: RENEWAL_CHAIN', async () => {
      const ds = leaves(3);
      const a = await renewTimeStamp((await createEvidenceRecords(ds, stamper)).records[0]!, stamper);
      const b = await renewTimeStamp((await createEvidenceRecords(leaves(3), stamper)).records[0]!, stamper);
      const [a0] = parseEvidenceRecord(a).chains[0]!;
      const [, b1] = parseEvidenceRecord(b).chains[0]!;
      const forged = encodeEvidenceRecord([[a0!.der, b1!.der]]);
      const report = await verifyEvidenceRecord(forged, { digest: ds[0]! }, { trustAnchors });
      expect(report.failedCheck, JSON.stringify(report.checks)).to.equal('RENEWAL_CHAIN');
    });
  });
});

describe('evidence records measurement (scripts/bench-records.ts)', () => {
  it('counts one TSA token per tree and verifies every record it made', async () => {
    const { measureEvidenceRecords } = await import('../../../scripts/bench-records.js');
    const m = await measureEvidenceRecords({ proofs: 25, perTree: 10 });
    expect(m.trees).to.equal(3);
    expect(m.tokensPer100k).to.equal(12_000);
    expect(m.invalid).to.equal(0);
    expect(m.entered.wall).to.be.greaterThan(0);
    expect(m.verified.wall).to.be.greaterThan(0);
  });
});
