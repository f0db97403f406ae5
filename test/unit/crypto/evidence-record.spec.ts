/**
 * RFC 4998 evidence records (src/crypto/EvidenceRecord.ts): the tree and its ordering rule
 * recomputed independently, records for every leaf of trees of many sizes, time-stamp
 * renewal, and each failure named by the verifier.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { readDer } from '../../../src/crypto/der.js';
import {
  appendArchiveTimeStampChain,
  assembleEvidenceRecord,
  buildHashTree,
  createEvidenceRecords,
  encodeArchiveTimeStamp,
  encodeEvidenceRecord,
  hashTreeRenewalLeaf,
  parseEvidenceRecord,
  recordDigestAlgorithm,
  recoverRoot,
  reducedHashTree,
  renewHashTree,
  renewTimeStamp,
  timeStampRenewal,
  verifyEvidenceRecord,
} from '../../../src/crypto/EvidenceRecord.js';
import { createDevPki, HttpTimeStamper, LocalTimeStamper, parseTimeStampToken, TimeStampAuthority, type HashName } from '../../../src/crypto/index.js';
import { OID } from '../../../src/crypto/oids.js';
import { createTsaApp } from '../../../src/http/tsa.js';
import { devPki } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.4998';
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = (n: number) => Array.from({ length: n }, () => sha256(randomBytes(16)));
const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const hash = (algorithm: HashName, data: Uint8Array) => new Uint8Array(createHash(NODE_HASH[algorithm]).update(data).digest());
const CHECKS = ['RECORD_STRUCTURE', 'DIGEST_ALGORITHM', 'PATH_NODES', 'LEAF_DIGEST', 'ROOT_IMPRINT'];

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
          expect(report.checks.map((c) => c.name)).to.deep.equal([...CHECKS, 'TIMESTAMP_TOKEN']);
          expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-256']);
          expect(report.proofOfExistence!.getTime()).to.equal(parseTimeStampToken(out.token).genTime.getTime());
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

describe('RFC 4998 evidence records in SHA-384/512, hash-tree renewal (§5.2)', function () {
  let stamper: LocalTimeStamper;
  let trustAnchors: Uint8Array[];

  before(async () => {
    const pki = await devPki('ECDSA-P256');
    stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }));
    trustAnchors = [pki.root.certificate];
  });

  /** Independent reading of §4.2 for any hash, with Buffer.compare. */
  const referenceRoot = (algorithm: HashName, digests: Uint8Array[]): Uint8Array => {
    const order = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    let level = [...digests].sort(order);
    while (level.length > 1) {
      const up: Uint8Array[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(hash(algorithm, Buffer.concat([level[i]!, level[i + 1]!].sort(order))));
      if (level.length % 2) up.push(level[level.length - 1]!);
      level = up;
    }
    return level[0]!;
  };

  /** The DER ArchiveTimeStampSequence cut out of the record's own bytes (its third element). */
  const sequenceBytes = (record: Uint8Array) => readDer(record).children[2]!.bytes;

  const datas = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`proof ${i} ${hex(randomBytes(8))}`));

  for (const algorithm of ['SHA-384', 'SHA-512'] as const) {
    it(`builds ${algorithm} trees, time-stamps their roots with ${algorithm} imprints, and verifies every record`, async () => {
      for (const n of [1, 2, 3, 9]) {
        const ds = datas(n);
        const ls = ds.map((d) => hash(algorithm, d));
        const out = await createEvidenceRecords(ls, stamper, algorithm);
        expect(hex(out.root)).to.equal(hex(referenceRoot(algorithm, ls)));
        const { messageImprint } = parseTimeStampToken(out.token);
        expect(messageImprint.hashAlgorithmOid).to.equal(algorithm === 'SHA-384' ? OID.sha384 : OID.sha512);
        expect(hex(messageImprint.hashedMessage)).to.equal(hex(out.root));
        for (const [i, record] of out.records.entries()) {
          expect(parseEvidenceRecord(record).digestAlgorithmOids).to.deep.equal([messageImprint.hashAlgorithmOid]);
          expect(recordDigestAlgorithm(record)).to.equal(algorithm);
          for (const leaf of [{ data: ds[i]! }, { digest: ls[i]! }, { digests: { [algorithm]: ls[i]! } }]) {
            const report = await verifyEvidenceRecord(record, leaf, { trustAnchors });
            expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
            expect(report.chains!.map((c) => c.algorithm)).to.deep.equal([algorithm]);
          }
          // the SHA-256 of the data is not the leaf of a SHA-512 tree
          expect((await verifyEvidenceRecord(record, { digest: sha256(ds[i]!) }, { trustAnchors })).failedCheck).to.equal('LEAF_DIGEST');
        }
        const renewed = await renewTimeStamp(await renewTimeStamp(out.records[0]!, stamper), stamper);
        const chain = parseEvidenceRecord(renewed).chains[0]!;
        expect(parseTimeStampToken(chain[2]!.timeStamp).messageImprint.hashAlgorithmOid, 'a renewal keeps the chain algorithm').to.equal(messageImprint.hashAlgorithmOid);
        expect(hex(parseTimeStampToken(chain[2]!.timeStamp).messageImprint.hashedMessage)).to.equal(
          hex(hash(algorithm, Buffer.concat([hash(algorithm, chain[0]!.timeStamp), hash(algorithm, chain[1]!.timeStamp)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))))),
        );
        expect((await verifyEvidenceRecord(renewed, { data: ds[0]! }, { trustAnchors })).valid).to.equal(true);
      }
    });
  }

  it('asks a TSA for SHA-384/512 imprints, and refuses values of another length', async () => {
    for (const algorithm of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
      const value = hash(algorithm, randomBytes(10));
      const { messageImprint } = parseTimeStampToken(await stamper.timestampDigest(value, algorithm));
      expect(hex(messageImprint.hashedMessage)).to.equal(hex(value));
    }
    expect(parseTimeStampToken(await stamper.timestampDigest(sha256(randomBytes(4)))).messageImprint.hashAlgorithmOid, 'SHA-256 by default').to.equal(OID.sha256);
    expect(() => stamper.timestampDigest(new Uint8Array(32), 'SHA-512')).to.throw(RangeError);
    expect(() => stamper.timestampDigest(new Uint8Array(48), 'SHA-1' as HashName)).to.throw(RangeError);
  });

  it("the built-in TSA over HTTP (the service's route and the standalone server's app) grants SHA-384/512 imprints", async () => {
    const pki = await devPki('ECDSA-P256');
    const app = createTsaApp(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }), pino({ level: 'silent' }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const http = new HttpTimeStamper(`http://127.0.0.1:${(server.address() as AddressInfo).port}/tsa`, { policyOid: POLICY });
      for (const algorithm of ['SHA-384', 'SHA-512'] as const) {
        const ds = datas(3);
        const out = await createEvidenceRecords(
          ds.map((d) => hash(algorithm, d)),
          http,
          algorithm,
        );
        expect(parseTimeStampToken(out.token).messageImprint.hashAlgorithmOid).to.equal(algorithm === 'SHA-384' ? OID.sha384 : OID.sha512);
        expect((await verifyEvidenceRecord(out.records[1]!, { data: ds[1]! }, { trustAnchors: [pki.root.certificate] })).valid).to.equal(true);
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('refuses a token the stamper made for another algorithm or value', async () => {
    const sneaky = { timestamp: (d: Uint8Array) => stamper.timestamp(d), timestampDigest: (h: Uint8Array) => stamper.timestampDigest(sha256(h)) };
    let error: unknown;
    try {
      await createEvidenceRecords([hash('SHA-512', randomBytes(3))], sneaky, 'SHA-512');
    } catch (err) {
      error = err;
    }
    expect((error as { code?: string } | undefined)?.code).to.equal('TSA_RESPONSE_MISMATCH');
  });

  describe('hash-tree renewal', () => {
    it('the renewal leaf is H(H(d) ‖ H(ArchiveTimeStampSequence)), the sequence as the record encodes it', async () => {
      const ds = datas(3);
      const record = await renewTimeStamp((await createEvidenceRecords(ds.map(sha256), stamper)).records[2]!, stamper);
      for (const algorithm of ['SHA-256', 'SHA-384', 'SHA-512'] as const) {
        const expected = hash(algorithm, Buffer.concat([hash(algorithm, ds[2]!), hash(algorithm, sequenceBytes(record))]));
        expect(hex(hashTreeRenewalLeaf(ds[2]!, record, algorithm))).to.equal(hex(expected));
      }
    });

    it('renews many records under one tree and one token; they stay valid through time-stamp renewals before and after', async () => {
      const ds = datas(6);
      const first = await createEvidenceRecords(ds.map(sha256), stamper);
      const before = await Promise.all(first.records.map((r) => renewTimeStamp(r, stamper)));
      let tokens = 0;
      const counting = { timestamp: (d: Uint8Array) => stamper.timestamp(d), timestampDigest: (h: Uint8Array, a?: HashName) => (tokens++, stamper.timestampDigest(h, a)) };
      const renewed = await renewHashTree(
        ds.map((data, i) => ({ data, record: before[i]! })),
        'SHA-512',
        counting,
      );
      expect(tokens, 'one token for the whole tree').to.equal(1);
      const newTree = buildHashTree(
        ds.map((d, i) => hashTreeRenewalLeaf(d, before[i]!, 'SHA-512')),
        'SHA-512',
      );
      for (const [i, record] of renewed.entries()) {
        const value = parseEvidenceRecord(record);
        expect(value.digestAlgorithmOids).to.deep.equal([OID.sha256, OID.sha512]);
        expect(value.chains.map((c) => c.length)).to.deep.equal([2, 1]);
        expect(hex(parseTimeStampToken(value.chains[1]![0]!.timeStamp).messageImprint.hashedMessage)).to.equal(hex(newTree.root));
        expect(value.chains[0]!.map((a) => hex(a.der)), 'the first chain is kept as it was').to.deep.equal(parseEvidenceRecord(before[i]!).chains[0]!.map((a) => hex(a.der)));
        expect(recordDigestAlgorithm(record)).to.equal('SHA-512');
        const report = await verifyEvidenceRecord(record, { data: ds[i]! }, { trustAnchors });
        expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
        expect(report.checks.map((c) => c.name)).to.deep.equal([...CHECKS, 'RENEWAL_CHAIN', 'HASH_TREE_RENEWAL', 'TIMESTAMP_TOKEN']);
        expect(report.chains!.map((c) => c.algorithm)).to.deep.equal(['SHA-256', 'SHA-512']);
        expect(report.proofOfExistence!.getTime()).to.equal(parseTimeStampToken(first.token).genTime.getTime());
        expect(report.genTimes).to.have.length(3);
        // the digests of the data in both algorithms do as well as the data; the SHA-256 digest alone does not
        expect((await verifyEvidenceRecord(record, { digests: { 'SHA-256': sha256(ds[i]!), 'SHA-512': hash('SHA-512', ds[i]!) } }, { trustAnchors })).valid).to.equal(true);
        const short = await verifyEvidenceRecord(record, { digest: sha256(ds[i]!) }, { trustAnchors });
        expect(short.failedCheck).to.equal('LEAF_DIGEST');
        expect(short.checks.at(-1)!.detail).to.match(/SHA-512/);
      }
      // time-stamp renewals of the new chain, in SHA-512
      const after = await renewTimeStamp(await renewTimeStamp(renewed[3]!, stamper), stamper);
      const chain = parseEvidenceRecord(after).chains[1]!;
      expect(chain).to.have.length(3);
      expect(parseTimeStampToken(chain[1]!.timeStamp).messageImprint.hashAlgorithmOid).to.equal(OID.sha512);
      expect(hex(parseTimeStampToken(chain[1]!.timeStamp).messageImprint.hashedMessage)).to.equal(hex(hash('SHA-512', chain[0]!.timeStamp)));
      const report = await verifyEvidenceRecord(after, { data: ds[3]! }, { trustAnchors });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.chains!.map((c) => c.genTimes.length)).to.deep.equal([2, 3]);
      // and a second hash-tree renewal, to SHA-384: digestAlgorithms lists each algorithm once, in order
      const third = (await renewHashTree([{ data: ds[3]!, record: after }], 'SHA-384', stamper))[0]!;
      expect(parseEvidenceRecord(third).digestAlgorithmOids).to.deep.equal([OID.sha256, OID.sha512, OID.sha384]);
      expect((await verifyEvidenceRecord(third, { data: ds[3]! }, { trustAnchors })).valid).to.equal(true);
      const again = (await renewHashTree([{ data: ds[3]!, record: third }], 'SHA-512', stamper))[0]!;
      expect(parseEvidenceRecord(again).digestAlgorithmOids).to.deep.equal([OID.sha256, OID.sha512, OID.sha384]);
      expect((await verifyEvidenceRecord(again, { data: ds[3]! }, { trustAnchors })).valid).to.equal(true);
    });

    it('also accepts the two hashes of §5.2 step 4 concatenated in binary ascending order (a reading of its "+")', async () => {
      // a record whose ha sorts before h(d), so that the two readings differ
      let ds: Uint8Array[], record: Uint8Array, h: Uint8Array, ha: Uint8Array;
      do {
        ds = datas(2);
        record = (await createEvidenceRecords(ds.map(sha256), stamper)).records[0]!;
        h = hash('SHA-512', ds[0]!);
        ha = hash('SHA-512', sequenceBytes(record));
      } while (Buffer.compare(Buffer.from(h), Buffer.from(ha)) < 0);
      const sorted = hash('SHA-512', Buffer.concat([h, ha].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))));
      const written = hashTreeRenewalLeaf(ds[0]!, record, 'SHA-512');
      expect(hex(sorted)).to.not.equal(hex(written));
      for (const leaf of [sorted, written]) {
        const renewed = appendArchiveTimeStampChain(record, 'SHA-512', undefined, await stamper.timestampDigest(leaf, 'SHA-512'));
        const report = await verifyEvidenceRecord(renewed, { data: ds[0]! }, { trustAnchors });
        expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      }
      const neither = appendArchiveTimeStampChain(record, 'SHA-512', undefined, await stamper.timestampDigest(hash('SHA-512', Buffer.concat([h, h])), 'SHA-512'));
      expect((await verifyEvidenceRecord(neither, { data: ds[0]! }, { trustAnchors })).failedCheck).to.equal('HASH_TREE_RENEWAL');
    });

    it('refuses to renew a record with data it was not made for, and a chain whose path does not lead to its token', async () => {
      const ds = datas(3);
      const out = await createEvidenceRecords(ds.map(sha256), stamper);
      let error: unknown;
      try {
        await renewHashTree([{ data: new TextEncoder().encode('another proof'), record: out.records[0]! }], 'SHA-512', stamper);
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(RangeError);
      const leafValue = hashTreeRenewalLeaf(ds[0]!, out.records[0]!, 'SHA-512');
      const other = hash('SHA-512', randomBytes(5));
      const token = await stamper.timestampDigest(hash('SHA-512', randomBytes(5)), 'SHA-512');
      expect(() => appendArchiveTimeStampChain(out.records[0]!, 'SHA-512', [[leafValue, other].sort(Buffer.compare)], token)).to.throw(RangeError);
      expect(() => appendArchiveTimeStampChain(out.records[0]!, 'SHA-384', undefined, token)).to.throw(RangeError);
    });

    it('keeps a record valid past its first TSA certificate and beyond SHA-256: renewed by another TSA in SHA-512', async () => {
      // TSA A: certificate 1999-12-31 to 2010-01-01; TSA B: 2008-12-31 to 2019-01-01
      const a = await createDevPki('ECDSA-P256', { now: new Date('2000-01-01T00:00:00Z') });
      const b = await createDevPki('RSA-2048', { now: new Date('2009-01-01T00:00:00Z') });
      const stampA = new LocalTimeStamper(new TimeStampAuthority(a.tsa, { policyOid: POLICY, clock: () => new Date('2000-06-01T00:00:00Z') }));
      const stampB = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2009-06-01T00:00:00Z') }));
      const ds = datas(4);
      const record = (await createEvidenceRecords(ds.map(sha256), stampA)).records[2]!;
      const renewed = (await renewHashTree([{ data: ds[2]!, record }], 'SHA-512', stampB))[0]!;
      const anchors = [a.root.certificate, b.root.certificate];
      const at = new Date('2015-01-01T00:00:00Z');
      const report = await verifyEvidenceRecord(renewed, { data: ds[2]! }, { trustAnchors: anchors, at });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.proofOfExistence!.toISOString()).to.equal('2000-06-01T00:00:00.000Z');
      expect(report.chains).to.deep.equal([
        { algorithm: 'SHA-256', genTimes: [new Date('2000-06-01T00:00:00Z')] },
        { algorithm: 'SHA-512', genTimes: [new Date('2009-06-01T00:00:00Z')] },
      ]);
      expect((await verifyEvidenceRecord(record, { data: ds[2]! }, { trustAnchors: anchors, at })).failedCheck).to.equal('TIMESTAMP_TOKEN');
      // renewed after TSA A's certificate expired: ArchiveTimeStamp 1 is not valid at the next genTime
      const late = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2012-01-01T00:00:00Z') }));
      const tooLate = await verifyEvidenceRecord((await renewHashTree([{ data: ds[2]!, record }], 'SHA-512', late))[0]!, { data: ds[2]! }, { trustAnchors: anchors, at });
      expect(tooLate.failedCheck).to.equal('TIMESTAMP_TOKEN');
      expect(tooLate.checks.at(-1)!.detail).to.match(/^chain 1, ArchiveTimeStamp 1: /);
      expect(tooLate.proofOfExistence).to.equal(undefined);
    });
  });

  describe('records assembled from stored trees', () => {
    it('are byte for byte the records createEvidenceRecords, renewTimeStamp and renewHashTree wrote', async () => {
      for (const n of [1, 2, 5]) {
        const ds = datas(n);
        const leaves1 = ds.map(sha256);
        const out = await createEvidenceRecords(leaves1, stamper);
        // the tree's time-stamp renewals: what timeStampRenewal says, the same for every leaf
        const tokens1 = [out.token];
        for (let r = 0; r < 3; r++) {
          const renewal = timeStampRenewal(tokens1, 'SHA-256');
          tokens1.push(await stamper.timestampDigest(renewal.imprint, 'SHA-256'));
        }
        let records = out.records;
        for (let r = 0; r < 3; r++) records = await Promise.all(records.map((x) => renewTimeStamp(x, stamper)));
        // renewTimeStamp asks for its own tokens: rebuild each record from the tree's tokens instead
        const chain1 = { algorithm: 'SHA-256' as const, leaves: leaves1, timeStamps: tokens1 };
        const tree1 = buildHashTree(leaves1);
        const stored = ds.map((_, i) => assembleEvidenceRecord([{ ...chain1, tree: tree1, leaf: leaves1[i]! }]));
        for (const [i, record] of stored.entries()) {
          expect(hex(assembleEvidenceRecord([{ ...chain1, leaf: leaves1[i]! }])), 'without a prebuilt tree').to.equal(hex(record));
          const rebuilt = parseEvidenceRecord(records[i]!).chains[0]!.map((a, j) => (j === 0 ? a.der : encodeArchiveTimeStamp(timeStampRenewal(tokens1.slice(0, j)).lists, tokens1[j]!)));
          expect(hex(record)).to.equal(hex(encodeEvidenceRecord([rebuilt])));
          expect((await verifyEvidenceRecord(record, { data: ds[i]! }, { trustAnchors })).valid).to.equal(true);
        }
        // and the records renewTimeStamp wrote, given renewTimeStamp's own tokens
        for (const [i, record] of records.entries()) {
          const own = parseEvidenceRecord(record).chains[0]!.map((a) => a.timeStamp);
          expect(hex(assembleEvidenceRecord([{ algorithm: 'SHA-256', leaves: leaves1, timeStamps: own }], ds[i]!))).to.equal(hex(record));
        }

        // hash-tree renewal of the stored records, then two time-stamp renewals of the new tree
        const renewed = await renewHashTree(
          ds.map((data, i) => ({ data, record: stored[i]! })),
          'SHA-512',
          stamper,
        );
        const leaves2 = ds.map((d, i) => hashTreeRenewalLeaf(d, stored[i]!, 'SHA-512'));
        const tokens2 = [parseEvidenceRecord(renewed[0]!).chains[1]![0]!.timeStamp];
        for (const [i, record] of renewed.entries()) {
          expect(hex(assembleEvidenceRecord([chain1, { algorithm: 'SHA-512', leaves: leaves2, timeStamps: tokens2 }], ds[i]!))).to.equal(hex(record));
          expect(hex(assembleEvidenceRecord([{ ...chain1, leaf: leaves1[i]! }, { algorithm: 'SHA-512', leaves: leaves2, leaf: leaves2[i]!, timeStamps: tokens2 }]))).to.equal(hex(record));
        }
        let last = renewed[n - 1]!;
        for (let r = 0; r < 2; r++) {
          last = await renewTimeStamp(last, stamper);
          tokens2.push(parseEvidenceRecord(last).chains[1]!.at(-1)!.timeStamp);
        }
        const assembled = assembleEvidenceRecord([chain1, { algorithm: 'SHA-512', leaves: leaves2, timeStamps: tokens2 }], ds[n - 1]!);
        expect(hex(assembled)).to.equal(hex(last));
        expect((await verifyEvidenceRecord(assembled, { data: ds[n - 1]! }, { trustAnchors })).valid).to.equal(true);
      }
    });

    it('refuse a leaf that is not in the tree, and a later chain without its leaf or the data', async () => {
      const ls = leaves(3);
      const out = await createEvidenceRecords(ls, stamper);
      expect(() => assembleEvidenceRecord([{ algorithm: 'SHA-256', leaves: ls, leaf: sha256(randomBytes(3)), timeStamps: [out.token] }])).to.throw(RangeError);
      expect(() => assembleEvidenceRecord([{ algorithm: 'SHA-256', leaves: ls, timeStamps: [out.token] }])).to.throw(RangeError);
      expect(() => assembleEvidenceRecord([{ algorithm: 'SHA-256', leaves: ls, leaf: ls[0]!, timeStamps: [] }])).to.throw(RangeError);
    });
  });

  describe('failures of several chains are named', () => {
    let ds: Uint8Array[];
    let base: Uint8Array[];
    let renewed: Uint8Array[];

    before(async () => {
      ds = datas(4);
      base = (await createEvidenceRecords(ds.map(sha256), stamper)).records;
      renewed = await renewHashTree(
        ds.map((data, i) => ({ data, record: base[i]! })),
        'SHA-512',
        stamper,
      );
    });

    const chainsOf = (record: Uint8Array) => parseEvidenceRecord(record).chains.map((c) => c.map((a) => a.der));

    it('a renewal that skips a chain: CHAIN_SKIPPED', async () => {
      // a third chain made over the record as it was before the second
      const stale = (await renewHashTree([{ data: ds[0]!, record: base[0]! }], 'SHA-384', stamper))[0]!;
      const forged = encodeEvidenceRecord([...chainsOf(renewed[0]!), chainsOf(stale)[1]!], ['SHA-256', 'SHA-512', 'SHA-384']);
      const report = await verifyEvidenceRecord(forged, { data: ds[0]! }, { trustAnchors });
      expect(report.failedCheck, JSON.stringify(report.checks)).to.equal('CHAIN_SKIPPED');
      expect(report.checks.at(-1)!.detail).to.match(/chain 3 covers the data with the first 1 chain only/);
      // a record that lost its second chain: the third covers chains that are not there
      const third = (await renewHashTree([{ data: ds[0]!, record: renewed[0]! }], 'SHA-384', stamper))[0]!;
      const dropped = encodeEvidenceRecord([chainsOf(third)[0]!, chainsOf(third)[2]!], ['SHA-256', 'SHA-384']);
      expect((await verifyEvidenceRecord(third, { data: ds[0]! }, { trustAnchors })).valid).to.equal(true);
      expect((await verifyEvidenceRecord(dropped, { data: ds[0]! }, { trustAnchors })).failedCheck).to.equal('HASH_TREE_RENEWAL');
    });

    it('a new chain whose leaf does not cover the previous chain: HASH_TREE_RENEWAL', async () => {
      // a SHA-512 tree over the data alone
      const alone = (await createEvidenceRecords([hash('SHA-512', ds[1]!), hash('SHA-512', randomBytes(4))], stamper, 'SHA-512')).records[0]!;
      const forged = encodeEvidenceRecord([chainsOf(base[1]!)[0]!, chainsOf(alone)[0]!], ['SHA-256', 'SHA-512']);
      const report = await verifyEvidenceRecord(forged, { data: ds[1]! }, { trustAnchors });
      expect(report.failedCheck, JSON.stringify(report.checks)).to.equal('HASH_TREE_RENEWAL');
      expect(report.checks.at(-1)!.detail).to.match(/covers the data's SHA-512 hash but not the chains before it/);
      // another record's renewal chain after this record's first chain (of another renewal: in the
      // same new tree, the sibling's chain would cover this leaf too, §4.2)
      const other = (await renewHashTree([{ data: ds[2]!, record: base[2]! }], 'SHA-512', stamper))[0]!;
      const swapped = encodeEvidenceRecord([chainsOf(renewed[1]!)[0]!, chainsOf(other)[1]!], ['SHA-256', 'SHA-512']);
      expect((await verifyEvidenceRecord(swapped, { data: ds[1]! }, { trustAnchors })).failedCheck).to.equal('HASH_TREE_RENEWAL');
      // a time-stamp renewal added to the first chain after the second was made over it
      const late = await renewTimeStamp(base[1]!, stamper);
      const changed = encodeEvidenceRecord([chainsOf(late)[0]!, chainsOf(renewed[1]!)[1]!], ['SHA-256', 'SHA-512']);
      expect((await verifyEvidenceRecord(changed, { data: ds[1]! }, { trustAnchors })).failedCheck).to.equal('HASH_TREE_RENEWAL');
    });

    it('every octet before the last ArchiveTimeStamp is protected: a flipped one never verifies, and nothing throws', async () => {
      let record = await renewTimeStamp(renewed[3]!, stamper);
      record = await renewTimeStamp(record, stamper);
      expect((await verifyEvidenceRecord(record, { data: ds[3]! }, { trustAnchors })).valid).to.equal(true);
      const last = parseEvidenceRecord(record).chains.at(-1)!.at(-1)!.der;
      const end = Buffer.from(record).lastIndexOf(Buffer.from(last));
      expect(end).to.be.greaterThan(0);
      const names = new Set<string>();
      for (let at = 0; at < end; at += 5) {
        const flipped = Uint8Array.from(record);
        flipped[at]! ^= 0x10;
        const report = await verifyEvidenceRecord(flipped, { data: ds[3]! }, { trustAnchors });
        expect(report.valid, `octet ${at}: ${JSON.stringify(report.checks)}`).to.equal(false);
        names.add(report.failedCheck!);
      }
      expect([...names]).to.include.members(['RECORD_STRUCTURE', 'DIGEST_ALGORITHM', 'LEAF_DIGEST', 'RENEWAL_CHAIN', 'HASH_TREE_RENEWAL']);
    });

    it('a wrong algorithm: DIGEST_ALGORITHM', async () => {
      // digestAlgorithms does not list the new chain's algorithm
      const unlisted = encodeEvidenceRecord(chainsOf(renewed[2]!), ['SHA-256']);
      const report = await verifyEvidenceRecord(unlisted, { data: ds[2]! }, { trustAnchors });
      expect(report.failedCheck).to.equal('DIGEST_ALGORITHM');
      expect(report.checks.at(-1)!.detail).to.match(/chain 2 is in SHA-512/);
      // a time-stamp renewal of a SHA-256 chain made in SHA-512
      const chain = parseEvidenceRecord(base[2]!).chains[0]!;
      const token = await stamper.timestampDigest(hash('SHA-512', chain[0]!.timeStamp), 'SHA-512');
      const mixed = encodeEvidenceRecord([[chain[0]!.der, encodeArchiveTimeStamp(undefined, token)]], ['SHA-256', 'SHA-512']);
      const mixedReport = await verifyEvidenceRecord(mixed, { data: ds[2]! }, { trustAnchors });
      expect(mixedReport.failedCheck).to.equal('DIGEST_ALGORITHM');
      expect(mixedReport.checks.at(-1)!.detail).to.match(/ArchiveTimeStamp 2 is in SHA-512, its chain in SHA-256/);
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

  it('bench:records counts the tokens at the TSA: one per tree, one per proof for the baseline', async () => {
    const { countingStamper, enterFor } = await import('../../../scripts/bench-records.js');
    const stamper = await countingStamper();
    const pool = Array.from({ length: 20 }, (_, i) => new Uint8Array(createHash('sha256').update(`leaf ${i}`).digest()));
    // no time given: one tree (or one batch of the baseline)
    const tree = await enterFor(stamper, pool, 7, 0);
    expect(tree).to.include({ proofs: 7, tokens: 1 });
    const whole = await enterFor(stamper, pool, 20, 0);
    expect(whole).to.include({ proofs: 20, tokens: 1 });
    const baseline = await enterFor(stamper, pool, 0, 0);
    expect(baseline.tokens).to.equal(baseline.proofs);
    expect(baseline.proofs).to.be.greaterThan(0);
    expect(stamper.counter.tokens).to.equal(2 + baseline.proofs);
  });
});
