/**
 * npm run bench — every benchmark, one after the other, each in its own process, compiled
 * (`npm run bench` builds once, first): bench-seal, bench-verify-proof, bench-verify,
 * bench-tsa, bench-http, bench-sqlite-thread, bench-receipt, bench-notify, bench-records. Never part of `npm test`.
 *
 * Before the first it waits for the build's load to leave the machine (bench-lib `settle`,
 * up to BENCH_SETTLE_SECONDS, default 60); each benchmark then waits again, at most 15 s
 * unless BENCH_SETTLE_SECONDS says otherwise, and prints the load it starts at. Prints the
 * total time at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { settle } from './bench-lib.js';

const here = import.meta.dirname;
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
const started = performance.now();
await settle();
const env = { ...process.env, BENCH_SETTLE_SECONDS: process.env.BENCH_SETTLE_SECONDS ?? '15' };
let failed = 0;
const took: string[] = [];
for (const name of ['bench-seal', 'bench-verify-proof', 'bench-verify', 'bench-tsa', 'bench-http', 'bench-sqlite-thread', 'bench-receipt', 'bench-notify', 'bench-records']) {
  const file = path.join(here, `${name}.${ext}`);
  if (!existsSync(file)) continue;
  console.log(`\n=== ${name} ===`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...(ext === 'ts' ? ['--import', 'tsx'] : []), file], { stdio: 'inherit', env });
  took.push(`${name} ${((performance.now() - t0) / 1000).toFixed(0)} s${r.status === 0 ? '' : ' (failed)'}`);
  if (r.status !== 0) failed++;
}
const total = (performance.now() - started) / 1000;
console.log(`\nnpm run bench: ${Math.floor(total / 60)} min ${(total % 60).toFixed(0)} s in all (${took.join(', ')})`);
process.exit(failed ? 1 : 0);
