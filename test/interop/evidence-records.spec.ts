/**
 * RFC 4998 evidence records (src/crypto/EvidenceRecord.ts) judged by others: Bouncy Castle's
 * own RFC 4998 classes (org.bouncycastle.tsp.ers, test/fixtures/crypto/bouncycastle/
 * VerifyEvidenceRecord.java) validate every record and re-encode it to the same bytes, and
 * build the same tree over the same leaves; `openssl ts -verify -digest` validates every
 * archive time-stamp token over the value it must cover. Needs a JDK, libbcpkix-java and
 * OpenSSL; fails, never skips, when one is missing.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readDer } from '../../src/crypto/der.js';
import {
  appendArchiveTimeStampChain,
  buildHashTree,
  createEvidenceRecords,
  encodeArchiveTimeStamp,
  encodeEvidenceRecord,
  hashTreeRenewalLeaf,
  parseEvidenceRecord,
  renewHashTree,
  renewTimeStamp,
  verifyEvidenceRecord,
} from '../../src/crypto/EvidenceRecord.js';
import { createDevPki, derToPem, LocalTimeStamper, parseTimeStampToken, TimeStampAuthority, type HashName, type KeyAlgorithm } from '../../src/crypto/index.js';
import { OID } from '../../src/crypto/oids.js';
import { compileBouncyCastleEvidenceRecordVerifier, type BcEvidenceRecordVerifier } from '../helpers/bouncycastle.js';
import { ALGORITHMS, devPki, openssl, opensslOk, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.4998';
const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = (n: number) => Array.from({ length: n }, () => sha256(randomBytes(24)));
const ascending = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const NODE_HASH: Record<HashName, string> = { 'SHA-256': 'sha256', 'SHA-384': 'sha384', 'SHA-512': 'sha512' };
const hash = (algorithm: HashName, data: Uint8Array) => new Uint8Array(createHash(NODE_HASH[algorithm]).update(data).digest());
const datas = (n: number) => Array.from({ length: n }, () => new Uint8Array(randomBytes(40)));

interface Case {
  name: string;
  record: Uint8Array;
  /** the leaf digest (a record of one chain) */
  leaf?: Uint8Array;
  /** or the data itself */
  data?: Uint8Array;
}

describe('evidence records with Bouncy Castle and OpenSSL', function () {
  this.timeout(180_000);
  let dir: string;
  let bc: BcEvidenceRecordVerifier;
  let seq = 0;

  before(async () => {
    bc = await compileBouncyCastleEvidenceRecordVerifier();
    dir = await tempDir('ers-interop-');
  });
  after(async () => {
    await bc?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const write = async (name: string, bytes: Uint8Array | string) => {
    const file = path.join(dir, `${++seq}-${name}`);
    await fs.writeFile(file, bytes);
    return file;
  };

  const setup = async (algorithm: KeyAlgorithm) => {
    const pki = await devPki(algorithm);
    return {
      pki,
      stamper: new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY })),
      rootFile: await write('root.pem', derToPem(pki.root.certificate, 'CERTIFICATE')),
      tsaFile: await write('tsa.pem', derToPem(pki.tsa.certificate, 'CERTIFICATE')),
    };
  };

  const bcVerify = async (rootFile: string, cases: Case[]) => {
    const inputs = await Promise.all(
      cases.map(async (c) => {
        const file = await write(`${c.name}.ers`, c.record);
        return c.data ? { file, dataFile: await write(`${c.name}.data`, c.data) } : { file, leaf: c.leaf! };
      }),
    );
    const result = await bc.verify(rootFile, inputs);
    expect(result.results, result.out).to.have.length(cases.length);
    return cases.map((c, i) => ({ ...c, result: result.results[i]!, out: result.out }));
  };

  /** The value each archive time-stamp must cover, computed here from RFC 4998 §4.2 and §5.2 (not by the module). */
  const expectedImprints = (record: Uint8Array, root: Uint8Array): Uint8Array[] => {
    const chain = parseEvidenceRecord(record).chains[0]!;
    return chain.map((_, i) => {
      if (i === 0) return root;
      const earlier = chain.slice(0, i).map((a) => sha256(a.timeStamp));
      return earlier.length === 1 ? earlier[0]! : sha256(Buffer.concat(earlier.sort(ascending)));
    });
  };

  for (const algorithm of ALGORITHMS) {
    it(`Bouncy Castle validates every record, OpenSSL every archive time-stamp (TSA key ${algorithm})`, async () => {
      const { pki, stamper, rootFile, tsaFile } = await setup(algorithm);
      const cases: Case[] = [];
      const roots = new Map<Uint8Array, Uint8Array>();
      for (const n of [1, 2, 3, 7, 13]) {
        const ds = leaves(n);
        const out = await createEvidenceRecords(ds, stamper);
        expect(hex(out.root)).to.equal(hex(buildHashTree(ds).root));
        for (const [i, record] of out.records.entries()) {
          cases.push({ name: `n${n}-leaf${i}`, record, leaf: ds[i]! });
          roots.set(record, out.root);
        }
        // renewed once, twice and three times (the first leaf's record of each tree)
        let renewed = out.records[0]!;
        for (let r = 1; r <= 3; r++) {
          renewed = await renewTimeStamp(renewed, stamper);
          cases.push({ name: `n${n}-renewed${r}`, record: renewed, leaf: ds[0]! });
          roots.set(renewed, out.root);
        }
      }

      const results = await bcVerify(rootFile, cases);
      for (const r of results) expect(r.result.ok, `${r.name}: ${r.result.code} ${r.result.reason}\n${r.out}`).to.equal(true);

      for (const c of cases) {
        const ours = await verifyEvidenceRecord(c.record, { digest: c.leaf! }, { trustAnchors: [pki.root.certificate] });
        expect(ours.valid, `${c.name}: ${JSON.stringify(ours.checks)}`).to.equal(true);
      }

      // openssl ts -verify -digest: each token of the first leaf's most renewed record of each tree,
      // and of every record (they share one token per tree: checked once per tree)
      const checked = new Set<string>();
      for (const c of cases) {
        const chain = parseEvidenceRecord(c.record).chains[0]!;
        const imprints = expectedImprints(c.record, roots.get(c.record)!);
        for (const [i, ats] of chain.entries()) {
          const key = hex(sha256(ats.timeStamp));
          if (checked.has(key)) continue;
          checked.add(key);
          const tokenFile = await write('token.der', ats.timeStamp);
          await opensslOk(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', hex(imprints[i]!), '-CAfile', rootFile, '-untrusted', tsaFile]);
          // and not over another value
          const wrong = Uint8Array.from(imprints[i]!);
          wrong[0]! ^= 1;
          const refused = await openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', hex(wrong), '-CAfile', rootFile, '-untrusted', tsaFile]);
          expect(refused.code, 'openssl accepted a token for another imprint').to.not.equal(0);
        }
      }
      expect(checked.size).to.equal(5 * 4);

      // openssl reads each record as one DER value filling the file
      for (const c of cases.filter((x) => x.name.endsWith('leaf0') || x.name.endsWith('renewed3'))) {
        const parsed = await opensslOk(['asn1parse', '-inform', 'DER', '-in', await write('record.der', c.record)]);
        const first = /^\s*0:d=0\s+hl=(\d+)\s+l=\s*(\d+)\s+cons: SEQUENCE/.exec(parsed.stdout.toString('utf8'));
        expect(first, parsed.stdout.toString('utf8')).to.not.equal(null);
        expect(Number(first![1]) + Number(first![2])).to.equal(c.record.length);
      }
    });
  }

  it("Bouncy Castle's BinaryTreeRootCalculator builds the same tree over the same leaves (ordering rule), in SHA-256, SHA-384 and SHA-512", async () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33, 100, 1001]) {
      const ds = leaves(n);
      const file = await write(`leaves-${n}.bin`, Buffer.concat(ds));
      expect(hex(await bc.treeRoot(file)), `${n} leaves`).to.equal(hex(buildHashTree(ds).root));
    }
    for (const algorithm of ['SHA-384', 'SHA-512'] as const) {
      for (const n of [1, 2, 3, 5, 8, 17, 100]) {
        const ds = Array.from({ length: n }, () => hash(algorithm, randomBytes(24)));
        const file = await write(`leaves-${algorithm}-${n}.bin`, Buffer.concat(ds));
        expect(hex(await bc.treeRoot(file, algorithm)), `${algorithm}, ${n} leaves`).to.equal(hex(buildHashTree(ds, algorithm).root));
      }
    }
  });

  it('Bouncy Castle validates a record renewed by another TSA before the first TSA certificate expired', async () => {
    // TSA A: certificate 1999-12-31 to 2010-01-01; TSA B: 2008-12-31 to 2019-01-01
    const a = await createDevPki('ECDSA-P256', { now: new Date('2000-01-01T00:00:00Z') });
    const b = await createDevPki('RSA-2048', { now: new Date('2009-01-01T00:00:00Z') });
    const stampA = new LocalTimeStamper(new TimeStampAuthority(a.tsa, { policyOid: POLICY, clock: () => new Date('2000-06-01T00:00:00Z') }));
    const stampB = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2009-06-01T00:00:00Z') }));
    const ds = leaves(6);
    let record = (await createEvidenceRecords(ds, stampA)).records[4]!;
    record = await renewTimeStamp(record, stampB);
    record = await renewTimeStamp(record, stampB);
    const ours = await verifyEvidenceRecord(record, { digest: ds[4]! }, { trustAnchors: [a.root.certificate, b.root.certificate], at: new Date('2015-01-01T00:00:00Z') });
    expect(ours.valid, JSON.stringify(ours.checks)).to.equal(true);
    const roots = `${await write('root-a.pem', derToPem(a.root.certificate, 'CERTIFICATE'))},${await write('root-b.pem', derToPem(b.root.certificate, 'CERTIFICATE'))}`;
    const [r] = await bcVerify(roots, [{ name: 'two-tsas', record, leaf: ds[4]! }]);
    expect(r!.result.ok, r!.out).to.equal(true);
  });

  /** The values a chain's tokens must cover after its first, computed here from RFC 4998 §5.2 (not by the module). */
  const renewalImprints = (chain: { timeStamp: Uint8Array }[], algorithm: HashName): Uint8Array[] =>
    chain.slice(1).map((_, i) => {
      const earlier = chain.slice(0, i + 1).map((a) => hash(algorithm, a.timeStamp));
      return earlier.length === 1 ? earlier[0]! : hash(algorithm, Buffer.concat(earlier.sort(ascending)));
    });

  /** openssl ts -verify -digest accepts the token over `value`, and refuses it over another value. */
  const opensslCovers = async (token: Uint8Array, value: Uint8Array, rootFile: string, tsaFile: string) => {
    const tokenFile = await write('token.der', token);
    await opensslOk(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', hex(value), '-CAfile', rootFile, '-untrusted', tsaFile]);
    const wrong = Uint8Array.from(value);
    wrong[value.length - 1]! ^= 1;
    const refused = await openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', hex(wrong), '-CAfile', rootFile, '-untrusted', tsaFile]);
    expect(refused.code, 'openssl accepted a token for another imprint').to.not.equal(0);
  };

  for (const [algorithm, key] of [
    ['SHA-384', 'ECDSA-P384'],
    ['SHA-512', 'RSA-2048'],
    ['SHA-512', 'ECDSA-P256'],
  ] as const) {
    it(`Bouncy Castle validates records in ${algorithm} alone, OpenSSL their ${algorithm} archive time-stamps (TSA key ${key})`, async () => {
      const { pki, stamper, rootFile, tsaFile } = await setup(key);
      const cases: Case[] = [];
      for (const n of [1, 2, 3, 7]) {
        const ds = datas(n);
        const ls = ds.map((d) => hash(algorithm, d));
        const out = await createEvidenceRecords(ls, stamper, algorithm);
        const { messageImprint } = parseTimeStampToken(out.token);
        expect(messageImprint.hashAlgorithmOid).to.equal(algorithm === 'SHA-384' ? OID.sha384 : OID.sha512);
        await opensslCovers(out.token, buildHashTree(ls, algorithm).root, rootFile, tsaFile);
        for (const [i, record] of out.records.entries()) {
          cases.push({ name: `${algorithm}-n${n}-leaf${i}`, record, leaf: ls[i]! });
          cases.push({ name: `${algorithm}-n${n}-data${i}`, record, data: ds[i]! });
        }
        let renewed = out.records[n - 1]!;
        for (let r = 1; r <= 3; r++) renewed = await renewTimeStamp(renewed, stamper);
        cases.push({ name: `${algorithm}-n${n}-renewed3`, record: renewed, data: ds[n - 1]! });
        const chain = parseEvidenceRecord(renewed).chains[0]!;
        for (const [i, value] of renewalImprints(chain, algorithm).entries()) await opensslCovers(chain[i + 1]!.timeStamp, value, rootFile, tsaFile);
      }
      const results = await bcVerify(rootFile, cases);
      for (const r of results) expect(r.result.ok, `${r.name}: ${r.result.code} ${r.result.reason}\n${r.out}`).to.equal(true);
      for (const c of cases) {
        const ours = await verifyEvidenceRecord(c.record, c.data ? { data: c.data } : { digest: c.leaf! }, { trustAnchors: [pki.root.certificate] });
        expect(ours.valid, `${c.name}: ${JSON.stringify(ours.checks)}`).to.equal(true);
      }
    });
  }

  it('Bouncy Castle validates records renewed by hash-tree renewal (SHA-256 → SHA-512, → SHA-384), with time-stamp renewals before and after; OpenSSL every token', async () => {
    const { pki, stamper, rootFile, tsaFile } = await setup('ECDSA-P256');
    const ds = datas(7);
    const first = await createEvidenceRecords(ds.map(sha256), stamper);
    // a time-stamp renewal of the first three records before the hash-tree renewal
    const before = await Promise.all(first.records.map((r, i) => (i < 3 ? renewTimeStamp(r, stamper) : r)));

    // the leaf computed here from §5.2 steps 2–4, and by Bouncy Castle's generateHashRenewalRequest
    const leaves = ds.map((d, i) => hash('SHA-512', Buffer.concat([hash('SHA-512', d), hash('SHA-512', readDer(before[i]!).children[2]!.bytes)])));
    for (const i of [0, 5]) {
      expect(hex(hashTreeRenewalLeaf(ds[i]!, before[i]!, 'SHA-512'))).to.equal(hex(leaves[i]!));
      const bc512 = await bc.hashRenewalLeaf('SHA-512', await write('before.ers', before[i]!), await write('before.data', ds[i]!));
      expect(bc512.oid).to.equal(OID.sha512);
      expect(hex(bc512.value), 'Bouncy Castle computes the same renewal leaf').to.equal(hex(leaves[i]!));
    }

    const renewed = await renewHashTree(
      ds.map((data, i) => ({ data, record: before[i]! })),
      'SHA-512',
      stamper,
    );
    const newToken = parseEvidenceRecord(renewed[0]!).chains[1]![0]!.timeStamp;
    await opensslCovers(newToken, buildHashTree(leaves, 'SHA-512').root, rootFile, tsaFile);
    const cases: Case[] = renewed.map((record, i) => ({ name: `renewed-${i}`, record, data: ds[i]! }));

    // time-stamp renewals of the new chain, in SHA-512
    let after = renewed[1]!;
    for (let r = 1; r <= 3; r++) {
      after = await renewTimeStamp(after, stamper);
      cases.push({ name: `renewed-then-${r}`, record: after, data: ds[1]! });
    }
    const chain2 = parseEvidenceRecord(after).chains[1]!;
    for (const [i, value] of renewalImprints(chain2, 'SHA-512').entries()) {
      expect(parseTimeStampToken(chain2[i + 1]!.timeStamp).messageImprint.hashAlgorithmOid).to.equal(OID.sha512);
      await opensslCovers(chain2[i + 1]!.timeStamp, value, rootFile, tsaFile);
    }
    const chain1 = parseEvidenceRecord(after).chains[0]!;
    for (const [i, value] of renewalImprints(chain1, 'SHA-256').entries()) await opensslCovers(chain1[i + 1]!.timeStamp, value, rootFile, tsaFile);

    // a second hash-tree renewal, to SHA-384: three chains
    const bc384 = await bc.hashRenewalLeaf('SHA-384', await write('after.ers', after), await write('after.data', ds[1]!));
    expect(hex(bc384.value)).to.equal(hex(hashTreeRenewalLeaf(ds[1]!, after, 'SHA-384')));
    const third = (await renewHashTree([{ data: ds[1]!, record: after }], 'SHA-384', stamper))[0]!;
    await opensslCovers(parseEvidenceRecord(third).chains[2]![0]!.timeStamp, bc384.value, rootFile, tsaFile);
    cases.push({ name: 'three-chains', record: third, data: ds[1]! });
    cases.push({ name: 'three-chains-renewed', record: await renewTimeStamp(third, stamper), data: ds[1]! });

    const results = await bcVerify(rootFile, cases);
    for (const r of results) expect(r.result.ok, `${r.name}: ${r.result.code} ${r.result.reason}\n${r.out}`).to.equal(true);
    for (const c of cases) {
      const ours = await verifyEvidenceRecord(c.record, { data: c.data! }, { trustAnchors: [pki.root.certificate] });
      expect(ours.valid, `${c.name}: ${JSON.stringify(ours.checks)}`).to.equal(true);
      const parsed = await opensslOk(['asn1parse', '-inform', 'DER', '-in', await write('record.der', c.record)]);
      const top = /^\s*0:d=0\s+hl=(\d+)\s+l=\s*(\d+)\s+cons: SEQUENCE/.exec(parsed.stdout.toString('utf8'));
      expect(Number(top![1]) + Number(top![2])).to.equal(c.record.length);
    }
  });

  it('Bouncy Castle validates a record time-stamped in 2000 in SHA-256 and renewed in 2009 by another TSA in SHA-512', async () => {
    const a = await createDevPki('ECDSA-P256', { now: new Date('2000-01-01T00:00:00Z') });
    const b = await createDevPki('RSA-3072', { now: new Date('2009-01-01T00:00:00Z') });
    const stampA = new LocalTimeStamper(new TimeStampAuthority(a.tsa, { policyOid: POLICY, clock: () => new Date('2000-06-01T00:00:00Z') }));
    const stampB = new LocalTimeStamper(new TimeStampAuthority(b.tsa, { policyOid: POLICY, clock: () => new Date('2009-06-01T00:00:00Z') }));
    const ds = datas(5);
    const records = (await createEvidenceRecords(ds.map(sha256), stampA)).records;
    let record = (await renewHashTree([{ data: ds[2]!, record: records[2]! }, { data: ds[3]!, record: records[3]! }], 'SHA-512', stampB))[0]!;
    record = await renewTimeStamp(record, stampB);
    const ours = await verifyEvidenceRecord(record, { data: ds[2]! }, { trustAnchors: [a.root.certificate, b.root.certificate], at: new Date('2015-01-01T00:00:00Z') });
    expect(ours.valid, JSON.stringify(ours.checks)).to.equal(true);
    expect(ours.proofOfExistence!.toISOString()).to.equal('2000-06-01T00:00:00.000Z');
    const roots = `${await write('root-a.pem', derToPem(a.root.certificate, 'CERTIFICATE'))},${await write('root-b.pem', derToPem(b.root.certificate, 'CERTIFICATE'))}`;
    const [r] = await bcVerify(roots, [{ name: 'two-tsas-two-algorithms', record, data: ds[2]! }]);
    expect(r!.result.ok, r!.out).to.equal(true);
  });

  it('§5.2 step 4 read as a sorted concatenation: Bouncy Castle refuses the record when h(d) sorts after ha, our verifier accepts it', async () => {
    const { pki, stamper, rootFile } = await setup('ECDSA-P256');
    let data: Uint8Array, record: Uint8Array, h: Uint8Array, ha: Uint8Array;
    do {
      data = datas(1)[0]!;
      record = (await createEvidenceRecords([sha256(data), sha256(randomBytes(8))], stamper)).records[0]!;
      h = hash('SHA-512', data);
      ha = hash('SHA-512', readDer(record).children[2]!.bytes);
    } while (ascending(h, ha) < 0);
    const sorted = hash('SHA-512', Buffer.concat([ha, h]));
    const renewed = appendArchiveTimeStampChain(record, 'SHA-512', undefined, await stamper.timestampDigest(sorted, 'SHA-512'));
    const ours = await verifyEvidenceRecord(renewed, { data }, { trustAnchors: [pki.root.certificate] });
    expect(ours.valid, JSON.stringify(ours.checks)).to.equal(true);
    const [r] = await bcVerify(rootFile, [{ name: 'sorted-reading', record: renewed, data }]);
    expect(r!.result.ok, r!.out).to.equal(false);
    expect(r!.result.code, r!.out).to.equal('HASH_TREE_RENEWAL');
    // the order written (h then ha) passes both
    const written = (await renewHashTree([{ data, record }], 'SHA-512', stamper))[0]!;
    const [w] = await bcVerify(rootFile, [{ name: 'written-reading', record: written, data }]);
    expect(w!.result.ok, w!.out).to.equal(true);
  });

  describe('refused by both verifiers, with the same named check', () => {
    let env: Awaited<ReturnType<typeof setup>>;
    let ds: Uint8Array[];
    let records: Uint8Array[];

    before(async () => {
      env = await setup('ECDSA-P256');
      ds = leaves(11);
      records = (await createEvidenceRecords(ds, env.stamper)).records;
    });

    const both = async (name: string, record: Uint8Array, leaf: Uint8Array | { data: Uint8Array }, check: string, bcCheck = check) => {
      const given = leaf instanceof Uint8Array ? { digest: leaf } : leaf;
      const ours = await verifyEvidenceRecord(record, given, { trustAnchors: [env.pki.root.certificate] });
      expect(ours.valid).to.equal(false);
      expect(ours.failedCheck, JSON.stringify(ours.checks)).to.equal(check);
      const [r] = await bcVerify(env.rootFile, [leaf instanceof Uint8Array ? { name, record, leaf } : { name, record, data: leaf.data }]);
      expect(r!.result.ok, r!.out).to.equal(false);
      expect(r!.result.code, r!.out).to.equal(bcCheck);
    };

    it('a tampered leaf: LEAF_DIGEST', async () => {
      const tampered = Uint8Array.from(ds[5]!);
      tampered[31]! ^= 0x01;
      await both('tampered', records[5]!, tampered, 'LEAF_DIGEST');
    });

    it('a record for another proof: LEAF_DIGEST', async () => {
      // not its sibling: a leaf's first list holds its sibling's digest too (RFC 4998 §4.2)
      const sibling = hex(buildHashTree(ds).paths[2]![0]!);
      const other = ds.find((d, i) => i !== 2 && hex(d) !== sibling)!;
      await both('other-proof', records[2]!, other, 'LEAF_DIGEST');
    });

    it('a wrong path node: ROOT_IMPRINT', async () => {
      const tree = buildHashTree(ds);
      const leaf = tree.paths.findIndex((p) => p.length === 4); // not the odd eleventh
      const node = tree.paths[leaf]![2]!;
      const record = Uint8Array.from(records[leaf]!);
      const at = Buffer.from(record).indexOf(Buffer.from(node));
      expect(at).to.be.greaterThan(0);
      record[at]! ^= 0x40;
      await both('wrong-node', record, ds[leaf]!, 'ROOT_IMPRINT');
    });

    it('a renewal over another time-stamp: RENEWAL_CHAIN', async () => {
      const a = await renewTimeStamp(records[0]!, env.stamper);
      const b = await renewTimeStamp((await createEvidenceRecords(leaves(3), env.stamper)).records[0]!, env.stamper);
      const forged = encodeEvidenceRecord([[parseEvidenceRecord(a).chains[0]![0]!.der, parseEvidenceRecord(b).chains[0]![1]!.der]]);
      await both('broken-renewal', forged, ds[0]!, 'RENEWAL_CHAIN');
    });

    describe('after a hash-tree renewal', () => {
      let data: Uint8Array[];
      let base: Uint8Array[];
      let renewed: Uint8Array[];
      const chainsOf = (record: Uint8Array) => parseEvidenceRecord(record).chains.map((c) => c.map((x) => x.der));

      before(async () => {
        data = datas(3);
        base = (await createEvidenceRecords(data.map(sha256), env.stamper)).records;
        renewed = await renewHashTree(
          data.map((d, i) => ({ data: d, record: base[i]! })),
          'SHA-512',
          env.stamper,
        );
        const [r] = await bcVerify(env.rootFile, [{ name: 'renewed-ok', record: renewed[0]!, data: data[0]! }]);
        expect(r!.result.ok, r!.out).to.equal(true);
      });

      it("a new chain whose leaf does not cover the previous chain: HASH_TREE_RENEWAL", async () => {
        const alone = (await createEvidenceRecords([hash('SHA-512', data[0]!)], env.stamper, 'SHA-512')).records[0]!;
        await both('data-alone', encodeEvidenceRecord([chainsOf(base[0]!)[0]!, chainsOf(alone)[0]!], ['SHA-256', 'SHA-512']), { data: data[0]! }, 'HASH_TREE_RENEWAL');
        // a time-stamp renewal added to the first chain after the second was made over it
        const late = await renewTimeStamp(base[0]!, env.stamper);
        await both('changed-first-chain', encodeEvidenceRecord([chainsOf(late)[0]!, chainsOf(renewed[0]!)[1]!], ['SHA-256', 'SHA-512']), { data: data[0]! }, 'HASH_TREE_RENEWAL');
      });

      it('a renewal that skips a chain: CHAIN_SKIPPED (Bouncy Castle: the chain does not cover the ones before it)', async () => {
        const stale = (await renewHashTree([{ data: data[0]!, record: base[0]! }], 'SHA-384', env.stamper))[0]!;
        const forged = encodeEvidenceRecord([...chainsOf(renewed[0]!), chainsOf(stale)[1]!], ['SHA-256', 'SHA-512', 'SHA-384']);
        await both('skipped-chain', forged, { data: data[0]! }, 'CHAIN_SKIPPED', 'HASH_TREE_RENEWAL');
      });

      it('a time-stamp renewal in another algorithm than its chain: DIGEST_ALGORITHM', async () => {
        const chain = parseEvidenceRecord(base[1]!).chains[0]!;
        const token = await env.stamper.timestampDigest(hash('SHA-512', chain[0]!.timeStamp), 'SHA-512');
        const mixed = encodeEvidenceRecord([[chain[0]!.der, encodeArchiveTimeStamp(undefined, token)]], ['SHA-256', 'SHA-512']);
        await both('mixed-algorithms', mixed, { data: data[1]! }, 'DIGEST_ALGORITHM');
      });
    });
  });
});
