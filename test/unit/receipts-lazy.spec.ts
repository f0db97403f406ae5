/**
 * The PDF libraries (pdf-lib, fontkit, @signpdf: some 30 MiB of a process's memory) are
 * loaded with the first receipt, not when the service starts: a fresh process imports the
 * runtime and the HTTP app, which must not have loaded them, then asks for a receipt, which
 * must. Run in a child process, whose module cache holds only what it imported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, runProcess } from '../helpers/cli.js';

describe('receipts load the PDF libraries when the first one is asked for', function () {
  this.timeout(60_000);

  it('the service\'s modules at start leave pdf-lib, fontkit and @signpdf out; the first receipt loads them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-lazy-pdf-'));
    const script = path.join(dir, 'probe.mts');
    const src = (p: string) => JSON.stringify(path.join(ROOT, 'src', p));
    fs.writeFileSync(
      script,
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const pdf = () => Object.keys(require.cache).filter((k) => /node_modules\\/(pdf-lib|@pdf-lib|@signpdf)\\//.test(k)).length;
await import(${src('app/runtime.ts')});
await import(${src('http/app.ts')});
const atStart = pdf();
const { ReceiptService } = await import(${src('registered-mail/receipts.ts')});
// a proof whose statement is not JSON: the receipt fails, after loading what it needs
await new ReceiptService({} as never).receipt({ statement: '{' } as never).catch(() => undefined);
console.log(JSON.stringify({ atStart, afterReceipt: pdf() }));
`,
    );
    try {
      const run = await runProcess(process.execPath, ['--import', 'tsx', script]);
      expect(run.code, run.stderr).to.equal(0);
      const { atStart, afterReceipt } = JSON.parse(run.stdout.trim().split('\n').pop()!);
      expect(atStart).to.equal(0);
      expect(afterReceipt).to.be.greaterThan(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
