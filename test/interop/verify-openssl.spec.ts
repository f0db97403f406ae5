/**
 * The auditor CLI's verdicts on the committed vectors, cross-checked with OpenSSL (a verifier
 * no one here wrote): every proof the CLI passes also passes `openssl cms -verify -cades` and
 * `openssl ts -verify` over its signature value, and the tampered ones the CLI fails are
 * refused by OpenSSL too (so the tampering is real, not an artefact of our parser).
 * OpenSSL checks chains at -attime = the token's genTime, as the CLI does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { extractTimeStamp, parseTimeStampToken } from '../../src/crypto/index.js';
import { VERIFY_FIXTURES } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';

const vectors: Array<{ file: string; args: string[]; indication: string; subIndication?: string }> = JSON.parse(fs.readFileSync(path.join(VERIFY_FIXTURES, 'expected.json'), 'utf8'));
const fixture = (name: string) => path.join(VERIFY_FIXTURES, name);
const trustOf = (args: string[]) => args.filter((_, i) => args[i - 1] === '--trust');

describe('verify vectors cross-checked with OpenSSL', () => {
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-openssl-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** Runs both OpenSSL checks; returns their exit codes. */
  async function opensslVerdict(file: string, roots: string[]): Promise<{ cms: number; ts: number; stderr: string }> {
    const proof = new Uint8Array(fs.readFileSync(fixture(file)));
    const { token, signatureValue } = extractTimeStamp(proof);
    const attime = String(Math.floor(parseTimeStampToken(token).genTime.getTime() / 1000));
    const bundle = path.join(work, `${file}.roots.pem`);
    fs.writeFileSync(bundle, roots.map((r) => fs.readFileSync(fixture(r), 'utf8')).join(''));
    fs.writeFileSync(path.join(work, 'tst.der'), token);
    fs.writeFileSync(path.join(work, 'sig.bin'), signatureValue);
    const cms = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', fixture(file), '-CAfile', bundle, '-attime', attime, '-out', path.join(work, 'content.json')]);
    const ts = await openssl(['ts', '-verify', '-token_in', '-in', path.join(work, 'tst.der'), '-data', path.join(work, 'sig.bin'), '-CAfile', bundle, '-attime', attime]);
    return { cms: cms.code, ts: ts.code, stderr: cms.stderr + ts.stderr + ts.stdout.toString() };
  }

  const passed = [...new Map(vectors.filter((v) => v.indication === 'TOTAL_PASSED').map((v) => [v.file, v])).values()];
  for (const v of passed) {
    it(`${v.file}: the CLI passes it, and so do openssl cms -verify -cades and openssl ts -verify`, async () => {
      const r = await opensslVerdict(v.file, trustOf(v.args));
      expect(r.cms, r.stderr).to.equal(0);
      expect(r.ts, r.stderr).to.equal(0);
      // what OpenSSL prints as the content is the statement the CLI checked
      expect(JSON.parse(fs.readFileSync(path.join(work, 'content.json'), 'utf8')).Version).to.equal('1');
    });
  }

  const tampered: Array<[string, 'cms' | 'ts']> = [
    ['service-tampered-statement.p7s', 'cms'],
    ['service-tampered-signing-time.p7s', 'cms'],
    ['service-swapped-timestamp.p7s', 'ts'],
  ];
  for (const [file, which] of tampered) {
    const v = vectors.find((x) => x.file === file)!;
    it(`${file}: the CLI says ${v.indication} / ${v.subIndication}, and openssl ${which} -verify refuses it too`, async () => {
      const r = await opensslVerdict(file, trustOf(v.args));
      expect(r[which]).to.not.equal(0);
    });
  }

  it('service-passed.p7s against an unrelated root: refused by OpenSSL as by the CLI (NO_CERTIFICATE_CHAIN_FOUND)', async () => {
    const r = await opensslVerdict('service-passed.p7s', ['other-root.pem']);
    expect(r.cms).to.not.equal(0);
    expect(r.ts).to.not.equal(0);
  });
});
