/**
 * A record built from a stored tree (`evidenceRecordFromTree`: the leaf, its path, the tree's
 * tokens) is byte for byte the record `createEvidenceRecords` writes and `renewTimeStamp`
 * renews, for every leaf of trees of 1 to 9 leaves and chains of 1 to 4 tokens; the value each
 * renewal covers (`renewalImprint`) is the one `renewTimeStamp` asks for.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { buildHashTree, createEvidenceRecords, evidenceRecordFromTree, parseEvidenceRecord, renewalImprint, renewTimeStamp, verifyEvidenceRecord } from '../../../src/crypto/EvidenceRecord.js';
import { LocalTimeStamper, parseTimeStampToken, TimeStampAuthority } from '../../../src/crypto/index.js';
import type { DigestTimeStamper } from '../../../src/crypto/TimeStamper.js';
import { devPki } from './helpers.js';

const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A stamper that keeps every token it issued and the value each covers. */
function recording(inner: DigestTimeStamper): DigestTimeStamper & { issued: { imprint: Uint8Array; token: Uint8Array }[] } {
  const issued: { imprint: Uint8Array; token: Uint8Array }[] = [];
  return {
    issued,
    timestamp: (data) => inner.timestamp(data),
    async timestampDigest(h) {
      const token = await inner.timestampDigest(h);
      issued.push({ imprint: Uint8Array.from(h), token });
      return token;
    },
  };
}

describe('evidence records from a stored tree', function () {
  this.timeout(60_000);

  it('are byte for byte what createEvidenceRecords and renewTimeStamp write', async () => {
    const pki = await devPki('ECDSA-P256');
    const stamper = recording(new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.2.3.4' })));
    for (const n of [1, 2, 3, 4, 5, 8, 9]) {
      const leaves = Array.from({ length: n }, () => sha256(randomBytes(16)));
      stamper.issued.length = 0;
      const made = await createEvidenceRecords(leaves, stamper);
      const tokens = [made.token];
      // the tree as the service rebuilds it: its leaves in another order (as read back from the table)
      const stored = [...leaves].reverse();
      const tree = buildHashTree(stored);
      expect(hex(tree.root)).to.equal(hex(made.root));
      const fromTree = (i: number) => evidenceRecordFromTree(leaves[i]!, tree.paths[n - 1 - i]!, tokens);
      for (let i = 0; i < n; i++) expect(hex(fromTree(i)), `n=${n} leaf ${i}`).to.equal(hex(made.records[i]!));

      // renewals: each one's token taken from renewTimeStamp of leaf 0's record, then every leaf's record rebuilt with it
      let renewed = made.records[0]!;
      for (let r = 1; r <= 3; r++) {
        const expected = renewalImprint(tokens);
        renewed = await renewTimeStamp(renewed, stamper);
        const last = stamper.issued[stamper.issued.length - 1]!;
        expect(hex(last.imprint), `renewal ${r} covers renewalImprint`).to.equal(hex(expected));
        tokens.push(last.token);
        expect(hex(fromTree(0)), `n=${n} renewed ${r}`).to.equal(hex(renewed));
        // the other leaves' records, renewed the same way, are the same bytes
        for (let i = 1; i < n; i++) {
          let other = made.records[i]!;
          const chain = parseEvidenceRecord(renewed).chains[0]!;
          // renewTimeStamp with a stamper that answers with the token already issued (same imprint)
          for (let k = 1; k < chain.length; k++) other = await renewTimeStamp(other, { timestamp: () => Promise.reject(new Error('unused')), timestampDigest: async () => chain[k]!.timeStamp });
          expect(hex(fromTree(i)), `n=${n} leaf ${i} renewed ${r}`).to.equal(hex(other));
        }
      }
      const report = await verifyEvidenceRecord(fromTree(n - 1), { digest: leaves[n - 1]! }, { trustAnchors: [pki.root.certificate] });
      expect(report.valid, JSON.stringify(report.checks)).to.equal(true);
      expect(report.genTimes).to.have.length(4);
      expect(parseTimeStampToken(tokens[0]!).messageImprint.hashedMessage).to.deep.equal(made.root);
    }
  });

  it('refuses a tree without its time-stamp, and renewalImprint an empty chain', () => {
    expect(() => evidenceRecordFromTree(sha256(randomBytes(4)), [], [])).to.throw(RangeError);
    expect(() => renewalImprint([])).to.throw(RangeError);
  });
});
