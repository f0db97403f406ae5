/**
 * The verifier fuzz (scripts/fuzz-verify.ts), a seeded slice of it: 500 mutated proofs through
 * the real `verify --dir --json` process, held to the same bar as `npm run test:fuzz-verify`
 * (no crash, every pass of a mutated proof explained, no verdict changed by a field the
 * verifier ignores). And the explainer itself, which must refuse what it cannot explain.
 */
import { expect } from 'chai';
import { verifyCadesT } from '../../src/crypto/index.js';
import { explainPass, meetsBar, MUTATION_KINDS, renderResult, runFuzz, UnusedCertificates, withCertificates, type FuzzResult } from '../../scripts/fuzz-verify.js';
import { implicit, setOf } from '../../src/crypto/der.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { devPki } from './crypto/helpers.js';
import { buildProof } from './crypto/proof-builder.js';

describe('verify fuzz: a seeded slice of 500 mutated proofs through verify --dir', function () {
  this.timeout(600_000);
  let result: FuzzResult;

  before(async () => {
    result = await runFuzz({ seed: 20261202, count: 500, genuine: 3 });
  });

  it('makes every kind of mutation, and the CLI reports every proof', () => {
    for (const kind of MUTATION_KINDS) expect(result.byKind[kind] ?? 0, kind).to.be.above(0);
    expect(Object.values(result.outcomes).reduce((a, b) => a + b, 0)).to.equal(500);
    expect(result.exitCode).to.equal(1); // the worst proof is TOTAL_FAILED
  });

  it('meets the bar: no crash, no unexplained pass, no verdict changed by an ignored field, the genuine proofs pass', () => {
    const report = renderResult(result);
    expect(result.crashes, report).to.deep.equal([]);
    expect(result.unexplained, report).to.deep.equal([]);
    expect(result.ignoredChangedVerdict, report).to.deep.equal([]);
    expect(result.genuineFailures, report).to.deep.equal([]);
    expect(meetsBar(result)).to.equal(true);
  });
});

for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
  describe(`verify fuzz: explaining a pass (${algorithm})`, () => {
    let proof: Uint8Array;
    let anchors: Uint8Array[];
    let unused: UnusedCertificates;
    let seal: Uint8Array;
    let root: Uint8Array;

    before(async () => {
      const pki = await devPki(algorithm);
      proof = buildProof(pki);
      anchors = [pki.root.certificate];
      unused = new UnusedCertificates(anchors);
      seal = pki.seal.certificate;
      root = pki.root.certificate;
    });

    const flip = (der: Uint8Array, at: number) => {
      const out = new Uint8Array(der);
      out[at]! ^= 0x01;
      return out;
    };

    it('explains a flipped bit in the proof\'s copy of the root (a certificate no path uses)', async () => {
      const at = Buffer.from(proof).indexOf(Buffer.from(root)) + root.length - 1; // the root's signature
      const mutated = flip(proof, at);
      expect((await verifyCadesT(mutated, { trustAnchors: anchors })).indication).to.equal('TOTAL_PASSED');
      expect(await explainPass(proof, { der: mutated, ranges: [[at, at + 1]] }, unused)).to.match(/certificate bag/);
    });

    it('explains a duplicated certificate and a removed copy of the root', async () => {
      expect(await explainPass(proof, { der: withCertificates(proof, implicit(0, setOf([seal, root, root]))), ranges: [] }, unused)).to.match(/extra/);
      expect(await explainPass(proof, { der: withCertificates(proof, implicit(0, setOf([seal]))), ranges: [] }, unused)).to.match(/no path uses it/);
    });

    it('does not explain a change to a field outside the bags (SignedData.version), even if it were to pass', async () => {
      const sd = parseSignedData(proof);
      const at = sd.node.children[0]!.offset + 2; // the version INTEGER's contents
      expect(await explainPass(proof, { der: flip(proof, at), ranges: [[at, at + 1]] }, unused)).to.equal(undefined);
    });

    it('does not explain the removal of the signer\'s certificate, nor a flipped bit in it', async () => {
      expect(await explainPass(proof, { der: withCertificates(proof, implicit(0, setOf([root]))), ranges: [] }, unused)).to.equal(undefined);
      const at = Buffer.from(proof).indexOf(Buffer.from(seal)) + seal.length - 1;
      expect(await explainPass(proof, { der: flip(proof, at), ranges: [[at, at + 1]] }, unused)).to.equal(undefined);
    });

    it('does not explain a byte-level change claimed inside the bag that also touched another place', async () => {
      const inRoot = Buffer.from(proof).indexOf(Buffer.from(root)) + root.length - 1;
      const version = parseSignedData(proof).node.children[0]!.offset + 2;
      const mutated = flip(flip(proof, inRoot), version);
      expect(await explainPass(proof, { der: mutated, ranges: [[inRoot, inRoot + 1]] }, unused)).to.equal(undefined);
    });
  });
}
