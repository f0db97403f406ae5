/**
 * The operator scripts as a newcomer first runs them: `--help` prints the usage on stdout and
 * exits 0 without opening a database; a wrong option is a usage error (non-zero, on stderr).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, runProcess, type CliRun } from '../helpers/cli.js';

function runScript(script: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  return runProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', script), ...args], { env });
}

describe('operator scripts: --help and usage errors', function () {
  this.timeout(120_000);
  let dataDir: string;
  let env: Record<string, string>;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-help-'));
    env = { APP_ENV: 'test', DATA_DIR: path.join(dataDir, 'data'), DATABASE_URL: `sqlite:${path.join(dataDir, 'data', 'db.sqlite')}`, DEV_CERTS_DIR: path.join(dataDir, 'certs') };
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const cases: Array<{ script: string; args: string[]; says: RegExp; usageExit: number; wrong: string[] }> = [
    { script: 'contacts.ts', args: ['--help'], says: /set-installation/, usageExit: 3, wrong: ['show', '--type', 'citizen'] },
    { script: 'contacts.ts', args: ['add-installation', '--help'], says: /--installation-id/, usageExit: 3, wrong: ['frobnicate'] },
    { script: 'create-sender.ts', args: ['--help'], says: /--name/, usageExit: 3, wrong: ['--nmae', 'x'] },
    { script: 'receipt-samples.ts', args: ['--help'], says: /--out/, usageExit: 3, wrong: ['--uot', 'x'] },
    { script: 'create-recipient.ts', args: ['--help'], says: /--type/, usageExit: 3, wrong: ['--type', 'person', '--id', '85073003328'] },
    { script: 'credentials.ts', args: ['--help'], says: /recipient-token:issue/, usageExit: 3, wrong: ['frobnicate'] },
    { script: 'clerk-map.ts', args: ['--help'], says: /remove/, usageExit: 3, wrong: ['add', '--sender', 'x'] },
    { script: 'migrate.ts', args: ['--help'], says: /down/, usageExit: 3, wrong: ['sideways'] },
    { script: 'dev-certs.ts', args: ['--help'], says: /--algorithm/, usageExit: 3, wrong: ['--bogus'] },
    { script: 'bench-records.ts', args: ['--help'], says: /BENCH_ROUNDS/, usageExit: 3, wrong: ['--bogus'] },
  ];

  for (const c of cases) {
    it(`${c.script} ${c.args.join(' ')}: usage on stdout, exit 0, nothing opened; ${c.wrong.join(' ')}: exit ${c.usageExit}`, async () => {
      const help = await runScript(c.script, c.args, env);
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.match(/usage/i).and.match(c.says);
      expect(help.stderr).to.equal('');
      const wrong = await runScript(c.script, c.wrong, env);
      expect(wrong.code).to.equal(c.usageExit);
      expect(wrong.stderr).to.not.equal('');
      expect(wrong.stderr).to.not.match(/\n\s+at /); // no stack trace
      // neither --help nor a usage error created a database or a PKI
      expect(fs.readdirSync(dataDir)).to.deep.equal([]);
    });
  }
});
