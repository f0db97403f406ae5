/**
 * `npm run test:faults`: the fault suite at full size. Builds the service (as `npm start`
 * runs it), runs every scenario (scenarios.ts) on each database it applies to, prints one
 * row per run and exits 1 if any row misses the bar.
 *
 *   npm run test:faults -- [--scenario kill-sqlite,tsa-faults] [--submissions N] [--faults N]
 *                          [--seed S] [--database sqlite,postgres] [--slice]
 *
 * --submissions and --faults replace every scenario's own numbers; --slice takes the small
 * sizes of the CI spec instead; --seed replays the letters' shapes, the faults' kinds and
 * the pauses of an earlier run (it is printed). PostgreSQL runs create and drop a database
 * on TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuild } from '../helpers/build.js';
import { meetsBar, skippedResult, type DbKind, type RunOptions, type ScenarioResult } from './campaign.js';
import { databasesOf, SCENARIOS } from './scenarios.js';
import { details, row, table } from './table.js';

const USAGE = 'usage: npm run test:faults -- [--scenario NAME[,NAME…]] [--submissions N] [--faults N] [--seed S] [--database sqlite,postgres] [--slice]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string' },
      submissions: { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      database: { type: 'string', default: 'sqlite,postgres' },
      slice: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(`${USAGE}\nscenarios: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return 0;
  }
  const names = values.scenario ? values.scenario.split(',').map((s) => s.trim()) : SCENARIOS.map((s) => s.name);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  const databases = values.database.split(',').map((d) => d.trim()) as DbKind[];
  const number = (raw: string | undefined, what: string) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a whole number ≥ 1`);
    return n;
  };
  if (unknown.length > 0 || databases.some((d) => d !== 'sqlite' && d !== 'postgres')) {
    console.error(`${unknown.length ? `unknown scenario ${unknown.join(', ')}` : `unknown database in ${values.database}`}\n${USAGE}`);
    return 3;
  }
  const submissions = number(values.submissions, 'submissions');
  const faults = number(values.faults, 'faults');
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000;
  if (!Number.isInteger(seed)) throw new Error('--seed must be a whole number');
  const size = values.slice ? 'slice' : 'full';

  console.log(`fault suite (${size}), seed ${seed}: building the service…`);
  await ensureBuild();
  const certsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-faults-certs-'));
  const results: ScenarioResult[] = [];
  try {
    for (const s of SCENARIOS.filter((x) => names.includes(x.name))) {
      for (const db of databasesOf(s, databases)) {
        const n = submissions ?? s.size[size].submissions;
        const f = faults ?? s.size[size].faults;
        const options: RunOptions = {
          submissions: n,
          seed,
          pgAdminUrl: process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
          certsDir,
          size,
          log: (line) => console.log(line),
        };
        console.log(`\n── ${s.name} (${db}): ${n} submissions, ${f} faults`);
        let r: ScenarioResult;
        try {
          r = await s.run(options, db, f);
        } catch (err) {
          // a campaign that could not run to its end misses the bar, with the reason
          r = { ...skippedResult(s.name, db, seed, ''), skipped: undefined, problems: [`the campaign stopped: ${err instanceof Error ? err.message : String(err)}`] };
        }
        results.push(r);
        console.log(`   ${row(r).join(' | ')}`);
      }
    }
  } finally {
    fs.rmSync(certsDir, { recursive: true, force: true });
  }
  console.log(`\nseed ${seed}\n\n${table(results)}\n\n${details(results)}`);
  const missed = results.filter((r) => !meetsBar(r));
  console.log(missed.length === 0 ? '\nevery row meets the bar' : `\n${missed.length} row(s) miss the bar: ${missed.map((r) => `${r.scenario} (${r.database})`).join(', ')}`);
  return missed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
