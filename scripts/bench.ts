/**
 * npm run bench — every benchmark, one after the other, each in its own process (compiled:
 * `npm run bench` builds first): bench-seal, bench-verify-proof, bench-tsa, bench-http, and
 * the auditor's bench-verify when it is there. Never part of `npm test`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const here = import.meta.dirname;
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
let failed = 0;
for (const name of ['bench-seal', 'bench-verify-proof', 'bench-verify', 'bench-tsa', 'bench-http']) {
  const file = path.join(here, `${name}.${ext}`);
  if (!existsSync(file)) continue;
  console.log(`\n=== ${name} ===`);
  const r = spawnSync(process.execPath, [...(ext === 'ts' ? ['--import', 'tsx'] : []), file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
