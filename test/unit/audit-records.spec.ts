/**
 * The auditor's record verifier (src/audit/records.ts): the same outcome as
 * verifyEvidenceRecord for valid records and for every named failure, with each distinct
 * archive time-stamp chain (a tree's, renewals included) verified once, not once per proof.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { buildHashTree, createEvidenceRecords, encodeArchiveTimeStamp, encodeEvidenceRecord, parseEvidenceRecord, renewHashTree, verifyEvidenceRecord, type DevPki } from '../../src/crypto/index.js';
import { EvidenceRecordVerifier } from '../../src/audit/records.js';
import { flipIn, pkiAt, recordsFor, sealProof, sha256, stamperAt } from '../helpers/records.js';

describe('audit: evidence record verifier (one verification per archive time-stamp chain)', function () {
  this.timeout(120_000);
  let a: DevPki;
  let b: DevPki;
  let proofs: Uint8Array[];
  let steps: Uint8Array[][];
  let anchors: Uint8Array[];
  const at = new Date('2035-01-01T00:00:00Z');

  before(async () => {
    a = await pkiAt('2021-06-01T00:00:00Z'); // leaf certificates to 2031-06-01
    b = await pkiAt('2029-01-01T00:00:00Z'); // to 2039-01-01
    proofs = [];
    for (let i = 0; i < 5; i++) proofs.push((await sealProof(a.seal, a.tsa, '2026-06-01T10:00:00Z', i + 1)).der);
    steps = await recordsFor(proofs, { tsa: a.tsa, at: '2026-06-01T12:00:00Z' }, [{ tsa: b.tsa, at: '2030-06-01T00:00:00Z' }, { tsa: b.tsa, at: '2032-01-01T00:00:00Z' }]);
    anchors = [a.root.certificate, b.root.certificate];
  });

  /** Asserts the verifier's outcome is verifyEvidenceRecord's: validity, failing check, check lines, genTimes. */
  async function same(verifier: EvidenceRecordVerifier, record: Uint8Array, proof: Uint8Array, expected?: string) {
    const direct = await verifyEvidenceRecord(record, { data: proof }, { trustAnchors: anchors, at: verifier.at });
    const mine = await verifier.verify(record, proof);
    expect(mine.failedCheck, JSON.stringify(mine.checks)).to.equal(direct.failedCheck);
    expect(mine.failedCheck).to.equal(expected);
    expect(mine.valid).to.equal(direct.valid);
    expect(mine.checks.map((c) => [c.name, c.passed])).to.deep.equal(direct.checks.map((c) => [c.name, c.passed]));
    expect(mine.genTimes?.map((d) => d.toISOString())).to.deep.equal(direct.genTimes?.map((d) => d.toISOString()));
    return mine;
  }

  it('verifies every record of a tree with one verification of its chain, renewed or not', async () => {
    for (const records of steps) {
      const verifier = new EvidenceRecordVerifier({ trustAnchors: anchors, at });
      for (const [i, record] of records.entries()) await same(verifier, record, proofs[i]!, records === steps[0] ? 'TIMESTAMP_TOKEN' : undefined);
      expect(verifier.chainsVerified).to.equal(1);
    }
  });

  it('verifies two trees\' chains once each, and again for another validation time', async () => {
    const other = (await recordsFor(proofs.slice(0, 2), { tsa: b.tsa, at: '2030-01-01T00:00:00Z' }))[0]!;
    const verifier = new EvidenceRecordVerifier({ trustAnchors: anchors, at });
    for (const [i, record] of steps[2]!.entries()) await verifier.verify(record, proofs[i]!);
    for (const [i, record] of other.entries()) await same(verifier, record, proofs[i]!);
    expect(verifier.chainsVerified).to.equal(2);
    const later = new EvidenceRecordVerifier({ trustAnchors: anchors, at: new Date('2040-01-01T00:00:00Z') });
    await same(later, steps[2]![0]!, proofs[0]!, 'TIMESTAMP_TOKEN'); // B's certificate expired in 2039
  });

  it('names each failure as verifyEvidenceRecord does: tampered leaf, record of another proof, wrong path node, broken renewal, bad structure', async () => {
    const verifier = new EvidenceRecordVerifier({ trustAnchors: anchors, at });
    const records = steps[1]!;
    const tampered = Uint8Array.from(proofs[0]!);
    tampered[tampered.length - 1]! ^= 0x01;
    await same(verifier, records[0]!, tampered, 'LEAF_DIGEST');
    const tree = buildHashTree(proofs.map(sha256));
    const sibling = Buffer.from(tree.paths[0]![0]!).toString('hex');
    const another = proofs.findIndex((p, i) => i > 0 && Buffer.from(sha256(p)).toString('hex') !== sibling);
    await same(verifier, records[another]!, proofs[0]!, 'LEAF_DIGEST');
    const path = tree.paths[0]!;
    await same(verifier, flipIn(records[0]!, path[path.length - 1]!), proofs[0]!, 'ROOT_IMPRINT');
    // a renewal taken from another tree's record: it covers another time-stamp
    const foreign = (await recordsFor(proofs.slice(0, 2), { tsa: a.tsa, at: '2026-06-02T00:00:00Z' }, [{ tsa: b.tsa, at: '2030-06-01T00:00:00Z' }]))[1]!;
    const chain = parseEvidenceRecord(records[0]!).chains[0]!;
    const broken = encodeEvidenceRecord([[chain[0]!.der, parseEvidenceRecord(foreign[0]!).chains[0]![1]!.der]]);
    await same(verifier, broken, proofs[0]!, 'RENEWAL_CHAIN');
    const badNode = encodeEvidenceRecord([[encodeArchiveTimeStamp([[new Uint8Array(20), sha256(proofs[0]!)]], parseEvidenceRecord(records[0]!).chains[0]![0]!.timeStamp)]]);
    await same(verifier, badNode, proofs[0]!, 'PATH_NODES');
    await same(verifier, records[0]!.subarray(0, 40), proofs[0]!, 'RECORD_STRUCTURE');
    await same(verifier, proofs[0]!, proofs[0]!, 'RECORD_STRUCTURE');
    // a chain that skips a renewal: the first token is then checked at a time its TSA certificate had expired
    const twice = parseEvidenceRecord(steps[2]![0]!).chains[0]!;
    await same(verifier, encodeEvidenceRecord([[twice[0]!.der, twice[2]!.der]]), proofs[0]!, 'TIMESTAMP_TOKEN');
  });

  it('a tree of one proof: the leaf is the imprint', async () => {
    const lone = (await recordsFor([proofs[0]!], { tsa: b.tsa, at: '2030-01-01T00:00:00Z' }))[0]![0]!;
    const verifier = new EvidenceRecordVerifier({ trustAnchors: anchors, at });
    await same(verifier, lone, proofs[0]!);
    await same(verifier, lone, proofs[1]!, 'LEAF_DIGEST');
  });

  it('anchors that do not hold the TSA: TIMESTAMP_TOKEN', async () => {
    const verifier = new EvidenceRecordVerifier({ trustAnchors: [b.root.certificate], at });
    const direct = await verifyEvidenceRecord(steps[1]![0]!, { data: proofs[0]! }, { trustAnchors: [b.root.certificate], at });
    const mine = await verifier.verify(steps[1]![0]!, proofs[0]!);
    expect(mine.failedCheck).to.equal('TIMESTAMP_TOKEN').and.equal(direct.failedCheck);
  });

  it('a SHA-512 record and a record renewed to SHA-512 (several chains) are verified whole, as verifyEvidenceRecord does', async () => {
    const verifier = new EvidenceRecordVerifier({ trustAnchors: anchors, at });
    const records512 = (await createEvidenceRecords(proofs.map((p) => new Uint8Array(sha512(p))), stamperAt(b.tsa, '2030-01-01T00:00:00Z'), 'SHA-512')).records;
    const tampered = Uint8Array.from(proofs[0]!);
    tampered[tampered.length - 1]! ^= 0x01;
    await same(verifier, records512[0]!, proofs[0]!);
    await same(verifier, records512[0]!, tampered, 'LEAF_DIGEST');
    const renewed = await renewHashTree(steps[1]!.map((record, i) => ({ record, data: proofs[i]! })), 'SHA-512', stamperAt(b.tsa, '2031-01-01T00:00:00Z'));
    await same(verifier, renewed[0]!, proofs[0]!);
    await same(verifier, renewed[0]!, tampered, 'LEAF_DIGEST');
    expect(verifier.chainsVerified).to.equal(0); // none of these takes the one-chain SHA-256 path
  });
});

function sha512(bytes: Uint8Array): Buffer {
  return createHash('sha512').update(bytes).digest();
}
