/**
 * `verify --dir D --json | head -1`: once the reader has closed the pipe, the CLI ends at once
 * and quietly with exit 0 — no EPIPE stack trace, no exit 1 — as a real process in a real
 * shell pipeline.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { runProcess, VERIFY_FIXTURES, type CliRun } from '../helpers/cli.js';

const COPIES = 300;

function run(command: string): Promise<CliRun> {
  return runProcess('bash', ['-c', command]);
}

describe('auditor CLIs with a closed standard output', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    // enough proofs that verify is still writing long after head has gone
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-epipe-'));
    const proof = fs.readFileSync(path.join(VERIFY_FIXTURES, 'service-passed.p7s'));
    for (let i = 0; i < COPIES; i++) fs.writeFileSync(path.join(dir, `p${String(i).padStart(4, '0')}.p7s`), proof);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('verify --dir --json | head -1: one line read, verify exits 0 with nothing on stderr', async () => {
    const verify = `"${process.execPath}" --import tsx src/cli/verify.ts --dir "${dir}" --json --jobs 0 --trust "${path.join(VERIFY_FIXTURES, 'root.pem')}"`;
    const res = await run(`set -o pipefail; ${verify} | head -1; echo "status \${PIPESTATUS[*]}" >&2`);
    const lines = res.stdout.split('\n').filter(Boolean);
    expect(lines).to.have.length(1);
    expect(JSON.parse(lines[0]!).indication).to.equal('TOTAL_PASSED');
    expect(res.stderr).to.not.match(/EPIPE|\n\s+at /);
    expect(res.stderr.trim()).to.equal('status 0 0');
    expect(res.code).to.equal(0);
  });

  it('the same run read to the end writes every line and exits 0 (the pipe, not the run, was cut short)', async () => {
    const verify = `"${process.execPath}" --import tsx src/cli/verify.ts --dir "${dir}" --json --jobs 0 --trust "${path.join(VERIFY_FIXTURES, 'root.pem')}"`;
    const res = await run(`set -o pipefail; ${verify} | cat`);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout.split('\n').filter(Boolean)).to.have.length(COPIES);
  });
});
