/**
 * The `verify` CLI run as a real process against the committed test vectors of
 * test/fixtures/verify (see its README.md and expected.json): each indication and
 * sub-indication, exit codes, JSON and human reports, malformed input and usage errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { inBatches, jsonLines, runCli, VERIFY_FIXTURES } from '../helpers/cli.js';

interface Vector {
  file: string;
  args: string[];
  indication: 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';
  subIndication?: string;
  check?: string;
  madeBy: string;
}

const vectors: Vector[] = JSON.parse(fs.readFileSync(path.join(VERIFY_FIXTURES, 'expected.json'), 'utf8'));
const EXIT = { TOTAL_PASSED: 0, TOTAL_FAILED: 1, INDETERMINATE: 2 } as const;
const STACK = /^\s+at .+[(:]\d+/m;

describe('verify CLI on the test vectors', function () {
  this.timeout(180_000);
  let results: Array<{ v: Vector; code: number; report: any; stderr: string }>;

  before(async () => {
    results = await inBatches(vectors, 2, async (v) => {
      const r = await runCli('verify', [v.file, ...v.args, '--json'], { cwd: VERIFY_FIXTURES });
      return { v, code: r.code, report: r.stdout ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
    });
  });

  it('covers each indication and sub-indication the issue names', () => {
    const seen = new Set(results.flatMap((r) => [r.report.indication, r.report.subIndication].filter(Boolean)));
    for (const name of ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE', 'HASH_FAILURE', 'SIG_CRYPTO_FAILURE', 'NO_CERTIFICATE_CHAIN_FOUND', 'NO_SIGNING_CERTIFICATE_FOUND', 'OUT_OF_BOUNDS_NO_POE', 'TIMESTAMP_ORDER_FAILURE', 'FORMAT_FAILURE', 'SIGNED_DATA_NOT_FOUND']) {
      expect(seen, name).to.include(name);
    }
  });

  for (const v of vectors) {
    const label = `${v.file} ${v.args.filter((a) => !a.endsWith('.pem') && a !== '--trust').join(' ')}`.trim();
    it(`${label} → ${v.indication}${v.subIndication ? ` / ${v.subIndication}` : ''} (${v.madeBy})`, () => {
      const r = results.find((x) => x.v === v)!;
      expect(r.stderr).to.not.match(STACK);
      expect(r.report.indication, JSON.stringify(r.report.checks.filter((c: any) => !c.passed))).to.equal(v.indication);
      expect(r.report.subIndication).to.equal(v.subIndication);
      expect(r.code).to.equal(EXIT[v.indication]);
      if (v.check) {
        const line = r.report.checks.find((c: any) => c.name === v.check && !c.passed);
        expect(line, `a failed ${v.check} line`).to.include({ subIndication: v.subIndication });
      } else {
        expect(r.report.checks.every((c: any) => c.passed)).to.equal(true);
      }
    });
  }

  it('names every check of a passing proof as a line, statement and documents included', () => {
    const r = results.find((x) => x.v.file === 'service-passed.p7s' && x.v.args.includes('annex.txt'))!;
    expect(r.report.checks.map((c: any) => c.name)).to.deep.equal([
      'DER_ENCODING', 'CMS_STRUCTURE', 'CMS_VERSION', 'CMS_ALGORITHMS', 'SIGNED_ATTRIBUTES', 'SIGNING_CERTIFICATE', 'SIGNING_CERTIFICATE_V2_BINDING', 'MESSAGE_DIGEST', 'SIGNATURE',
      'CERTIFICATE_CHAIN', 'TIMESTAMP_PRESENT', 'TIMESTAMP_VERSION', 'TIMESTAMP_ALGORITHMS', 'TIMESTAMP_SIGNATURE', 'TIMESTAMP_ESS_BINDING', 'TSA_CERTIFICATE_USAGE', 'TSA_CERTIFICATE_CHAIN',
      'TIMESTAMP_IMPRINT', 'TIMESTAMP_ORDER', 'STATEMENT_SCHEMA', 'DOCUMENT_DIGEST', 'DOCUMENT_DIGEST',
    ]);
    expect(r.report.statement).to.include({ type: 'SubmissionAcceptance', messageId: '7b1e4c2a-5d3f-4e6a-9b8c-0d1e2f3a4b5c' });
    expect(r.report.trustAnchors[0].subject).to.contain('Registered Mail DEV Root CA');
  });

  it('prints a human report with one line per check and the indication last', async () => {
    const r = await runCli('verify', ['service-tampered-statement.p7s', '--trust', 'root.pem'], { cwd: VERIFY_FIXTURES });
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^ {2}ok {3}DER_ENCODING/m);
    expect(r.stdout).to.match(/^ {2}FAIL MESSAGE_DIGEST +HASH_FAILURE/m);
    expect(r.stdout.trimEnd().split('\n').pop()).to.equal('  TOTAL_FAILED / HASH_FAILURE');
    expect(r.stdout).to.not.contain('\u001b['); // NO_COLOR / not a TTY: no escape codes
  });

  it('colours the report when asked (FORCE_COLOR), and not with --no-color', async () => {
    const coloured = await runCli('verify', ['service-passed.p7s', '--trust', 'root.pem'], { cwd: VERIFY_FIXTURES, env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(coloured.stdout).to.contain('\u001b[32m');
    const plain = await runCli('verify', ['service-passed.p7s', '--trust', 'root.pem', '--no-color'], { cwd: VERIFY_FIXTURES, env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(plain.stdout).to.not.contain('\u001b[');
  });
});

describe('verify CLI on malformed input and usage errors', function () {
  this.timeout(60_000);
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-verify-'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('a 100 MB file is a FORMAT_FAILURE, refused without being read', async () => {
    const big = path.join(work, 'big.p7s');
    fs.closeSync(fs.openSync(big, 'w'));
    fs.truncateSync(big, 100 * 1024 * 1024);
    const r = await runCli('verify', [big, '--trust', path.join(VERIFY_FIXTURES, 'root.pem'), '--json']);
    expect(r.code).to.equal(1);
    const report = JSON.parse(r.stdout);
    expect(report).to.include({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(report.checks[0].detail).to.contain('100.0 MiB');
  });

  it('an empty file is a FORMAT_FAILURE', async () => {
    const empty = path.join(work, 'empty.p7s');
    fs.writeFileSync(empty, '');
    const r = await runCli('verify', [empty, '--trust', path.join(VERIFY_FIXTURES, 'root.pem'), '--json']);
    expect(r.code).to.equal(1);
    expect(JSON.parse(r.stdout).subIndication).to.equal('FORMAT_FAILURE');
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['a missing proof file', ['nope.p7s', '--trust', 'root.pem'], /nope\.p7s: no such file/],
    ['a bad --at', ['service-passed.p7s', '--trust', 'root.pem', '--at', 'yesterday'], /--at: "yesterday" is not a time/],
    ['an impossible --at', ['service-passed.p7s', '--trust', 'root.pem', '--at', '2026-13-45'], /--at: "2026-13-45" is not a valid time/],
    ['no --trust', ['service-passed.p7s'], /--trust ROOT\.pem is required/],
    ['a missing trust file', ['service-passed.p7s', '--trust', 'nope.pem'], /trust anchor nope\.pem: no such file/],
    ['a trust file that is no certificate', ['service-passed.p7s', '--trust', 'letter.pdf'], /trust anchor letter\.pdf: not an X\.509 certificate/],
    ['a PEM trust file without certificates', ['service-passed.p7s', '--trust', 'openssl-cms-cmsout-outform-pem.p7s'], /no "BEGIN CERTIFICATE" block/],
    ['a missing --document', ['service-passed.p7s', '--trust', 'root.pem', '--document', 'nope.pdf'], /--document nope\.pdf: no such file/],
    ['a folder as the proof', ['.', '--trust', 'root.pem'], /not a regular file/],
    ['no proof at all', ['--trust', 'root.pem'], /no proof given/],
    ['a proof and --dir', ['service-passed.p7s', '--dir', '.', '--trust', 'root.pem'], /either a proof file or --dir/],
    ['--dir on a missing folder', ['--dir', 'nope', '--trust', 'root.pem'], /nope: no such directory/],
    ['an unknown option', ['service-passed.p7s', '--frobnicate'], /unknown option '--frobnicate'/],
    ['a bad --jobs', ['--dir', '.', '--trust', 'root.pem', '--jobs', 'many'], /--jobs: "many"/],
    ['--pool thread from the TypeScript sources', ['--dir', '.', '--trust', 'root.pem', '--jobs', '2', '--pool', 'thread'], /--pool thread needs the compiled CLI/],
    ['an unknown --pool', ['--dir', '.', '--trust', 'root.pem', '--pool', 'fibers'], /Allowed choices are process, thread/],
  ];
  for (const [what, args, message] of usage) {
    it(`${what} is a usage error (exit 3), without a stack trace`, async () => {
      const r = await runCli('verify', args, { cwd: VERIFY_FIXTURES });
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(STACK);
      expect(r.stdout).to.equal('');
    });
  }

  it('--help exits 0', async () => {
    const r = await runCli('verify', ['--help']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('--document <file>');
  });
});

describe('verify --dir', function () {
  this.timeout(120_000);
  let dir: string;
  const proofs = ['service-passed.p7s', 'service-passed-consignment.p7s', 'service-passed-p384.p7s', 'service-tampered-statement.p7s', 'service-timestamp-before-signing-time.p7s'];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-verify-dir-'));
    fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
    for (const p of proofs) fs.copyFileSync(path.join(VERIFY_FIXTURES, p), path.join(dir, p.includes('p384') ? 'a/b' : '.', p));
    // documents beside the proofs, under the names their statements give
    fs.copyFileSync(path.join(VERIFY_FIXTURES, 'letter.pdf'), path.join(dir, 'letter.pdf'));
    fs.copyFileSync(path.join(VERIFY_FIXTURES, 'letter-altered.pdf'), path.join(dir, 'a/b/letter.pdf'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const jobs of ['2', '0']) {
    it(`checks every .p7s under the folder, documents matched by name (${jobs === '0' ? 'in process' : 'two worker processes'})`, async () => {
      const r = await runCli('verify', ['--dir', dir, '--trust', path.join(VERIFY_FIXTURES, 'root.pem'), '--trust', path.join(VERIFY_FIXTURES, 'root-p384.pem'), '--json', '--jobs', jobs]);
      expect(r.stderr).to.equal('');
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => l.file).sort()).to.deep.equal(['a/b/service-passed-p384.p7s', ...proofs.filter((p) => !p.includes('p384'))].sort());
      const by = (f: string) => lines.find((l) => l.file.endsWith(f));
      expect(by('service-passed.p7s')).to.include({ indication: 'TOTAL_PASSED' });
      expect(by('service-passed.p7s').checks.filter((c: any) => c.name === 'DOCUMENT_DIGEST')).to.have.length(1);
      expect(by('service-passed-consignment.p7s')).to.include({ indication: 'TOTAL_PASSED' });
      // the altered letter.pdf beside the P-384 proof is caught
      expect(by('service-passed-p384.p7s')).to.include({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
      expect(by('service-tampered-statement.p7s')).to.include({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
      expect(by('service-timestamp-before-signing-time.p7s')).to.include({ indication: 'INDETERMINATE', subIndication: 'TIMESTAMP_ORDER_FAILURE' });
      expect(r.code).to.equal(1); // the worst proof decides
    });
  }

  it('prints a summary table without --json', async () => {
    const r = await runCli('verify', ['--dir', dir, '--trust', path.join(VERIFY_FIXTURES, 'root.pem'), '--trust', path.join(VERIFY_FIXTURES, 'root-p384.pem')]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^Verified 5 proofs in [\d.]+ s/m);
    expect(r.stdout).to.match(/^ {2}TOTAL_PASSED +2$/m);
    expect(r.stdout).to.match(/^ {2}TOTAL_FAILED +HASH_FAILURE +2$/m);
    expect(r.stdout).to.match(/^ {2}INDETERMINATE +TIMESTAMP_ORDER_FAILURE +1$/m);
    expect(r.stdout).to.contain('Not passed:');
  });

  it('exits 0 when every proof passes, and 3 on a folder without proofs', async () => {
    const ok = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-verify-ok-'));
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-verify-empty-'));
    try {
      for (const p of ['service-passed.p7s', 'service-passed-consignment.p7s', 'annex.txt']) fs.copyFileSync(path.join(VERIFY_FIXTURES, p), path.join(ok, p));
      const r = await runCli('verify', ['--dir', ok, '--trust', path.join(VERIFY_FIXTURES, 'root.pem'), '--json']);
      expect(r.code).to.equal(0);
      expect(jsonLines(r.stdout).every((l) => l.indication === 'TOTAL_PASSED')).to.equal(true);
      const e = await runCli('verify', ['--dir', empty, '--trust', path.join(VERIFY_FIXTURES, 'root.pem')]);
      expect(e.code).to.equal(3);
      expect(e.stderr).to.contain('no .p7s file');
    } finally {
      fs.rmSync(ok, { recursive: true, force: true });
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
