/**
 * `npm run test:fuzz`: hostile requests against the service as a real process, then the bar
 * (test/fuzz/runner.ts). Exits 1 when the bar is broken.
 *
 *   npm run test:fuzz                                  10,000 cases, a new seed (printed)
 *   npm run test:fuzz -- --seed S --cases N            N cases of seed S
 *   npm run test:fuzz -- --seed S --case I[,J…]        replay cases I, J… of seed S, printing request and answer
 *   npm run test:fuzz -- --concurrency 8               requests in flight (default 8)
 *
 * TEST_DATABASE_URL=postgres://… runs it on a fresh PostgreSQL database.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport, runFuzz } from './runner.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    cases: { type: 'string', default: '10000' },
    case: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
  },
});

const seed = values.seed ?? randomBytes(6).toString('hex');
const replay = values.case?.split(',').map((s) => Number(s.trim()));
const cases = Number(values.cases);
const concurrency = Number(values.concurrency);
if ((replay && replay.some((i) => !Number.isSafeInteger(i) || i < 0)) || !Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(concurrency) || concurrency < 1) {
  console.error('usage: fuzz [--seed S] [--cases N | --case I[,J…]] [--concurrency C]');
  process.exit(3);
}

const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-fuzz-certs-'));
console.log(`fuzz: seed ${seed}, ${replay ? `case(s) ${replay.join(', ')}` : `${cases} cases`}, concurrency ${concurrency}`);
try {
  const report = await runFuzz({
    plans: [{ seed, indices: replay ?? Array.from({ length: cases }, (_, i) => i) }],
    concurrency,
    certsDir,
    verbose: replay !== undefined,
    log: (line) => console.log(line),
  });
  console.log(formatReport(report));
  process.exitCode = report.breaches.length ? 1 : 0;
} finally {
  fs.rmSync(certsDir, { recursive: true, force: true });
}
