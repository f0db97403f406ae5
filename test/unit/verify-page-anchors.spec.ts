/**
 * The trust anchors /verify publishes (src/http/pages/verify.ts): the development PKI's root
 * when the service seals with it, and the roots — self-signed certificates only — of the
 * sealing and TSA chain files, each once.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Config } from '../../src/config.js';
import { certificateInfo, derToPem, pemToDer } from '../../src/crypto/index.js';
import { parseSignedData } from '../../src/crypto/SignedData.js';
import { publishedAnchors } from '../../src/http/pages/verify.js';
import { VERIFY_FIXTURES } from '../helpers/cli.js';

const fingerprints = (pems: string[]) => pems.flatMap((p) => pemToDer(p, 'CERTIFICATE')).map((d) => certificateInfo(d).sha256);
const fileFingerprint = (file: string) => certificateInfo(pemToDer(fs.readFileSync(file, 'utf8'), 'CERTIFICATE')[0]!).sha256;

describe('/verify: the published trust anchors', () => {
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-anchors-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('the roots of the sealing and TSA chain files, not their intermediates or leaves, each once', () => {
    const root = path.join(VERIFY_FIXTURES, 'root.pem');
    const other = path.join(VERIFY_FIXTURES, 'other-root.pem');
    // the sealing certificate of a fixture proof: issued by root.pem, so not an anchor
    const leaf = parseSignedData(new Uint8Array(fs.readFileSync(path.join(VERIFY_FIXTURES, 'service-passed.p7s')))).certificates.map((d) => ({ d, info: certificateInfo(d) })).find((c) => c.info.subject !== c.info.issuer)!;
    expect(leaf, 'a certificate that is not self-signed').to.not.equal(undefined);
    const sealChain = path.join(work, 'seal-chain.pem');
    fs.writeFileSync(sealChain, derToPem(leaf.d, 'CERTIFICATE') + fs.readFileSync(root, 'utf8'));
    const tsaChain = path.join(work, 'tsa-chain.pem');
    fs.writeFileSync(tsaChain, fs.readFileSync(root, 'utf8') + fs.readFileSync(other, 'utf8'));
    const config = { sealing: { kind: 'pem', keyFile: 'k', certFile: 'c', chainFile: sealChain }, tsa: { key: { kind: 'pem', keyFile: 'k', certFile: 'c', chainFile: tsaChain } } } as unknown as Config;
    expect(fingerprints(publishedAnchors({ config }))).to.deep.equal([fileFingerprint(root), fileFingerprint(other)]);
  });

  it('the development root when the service seals with the development PKI', () => {
    const root = path.join(VERIFY_FIXTURES, 'root.pem');
    const config = { sealing: { kind: 'dev' }, tsa: { key: { kind: 'dev' } } } as unknown as Config;
    expect(fingerprints(publishedAnchors({ config, devPkiRoot: root }))).to.deep.equal([fileFingerprint(root)]);
    expect(publishedAnchors({ config })).to.deep.equal([]);
  });
});
