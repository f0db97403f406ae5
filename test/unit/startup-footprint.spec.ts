/**
 * What a process holds once started, beyond what it serves with:
 * - the young generation is held at its size while the service loads, and V8 grows it again
 *   once released (src/cli/startupHeap.ts); a process told its own semi-space size is left
 *   as told;
 * - a service on SQLite does not load the PostgreSQL driver: the signals' listener loads it
 *   when it first connects (src/store/PgSignals.ts).
 * Each runs in a child process, whose heap and module cache hold only what it did.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, runProcess } from '../helpers/cli.js';

const src = (p: string) => JSON.stringify(path.join(ROOT, 'src', p));

async function probe(source: string, nodeArgs: string[] = []): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-footprint-'));
  const script = path.join(dir, 'probe.mts');
  fs.writeFileSync(script, source);
  try {
    const run = await runProcess(process.execPath, [...nodeArgs, '--import', 'tsx', script]);
    expect(run.code, run.stderr).to.equal(0);
    return JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, number>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Allocates objects that all survive (as loading modules does), between readings of the young generation's size. */
const YOUNG = `import v8 from 'node:v8';
const { releaseStartupHeap } = await import(${src('cli/startupHeap.ts')});
const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
const kept: unknown[] = [];
const load = () => { for (let i = 0; i < 400_000; i++) kept.push({ i, s: 'x' + i, a: [i, i + 1] }); };
const before = young();
// V8 commits the second semi-space at the first collection: read the size after some
load();
const first = young();
load();
load();
const held = young();
releaseStartupHeap();
load();
load();
console.log(JSON.stringify({ before, first, held, released: young() }));
`;

describe('start-up footprint', function () {
  this.timeout(60_000);

  it('holds the young generation at its size while loading, and lets it grow once released', async () => {
    const { first, held, released } = await probe(YOUNG);
    expect(held, 'size while held').to.be.at.most(first!);
    expect(released, 'size after release').to.be.greaterThan(first!);
  });

  it('leaves a process started with its own --max-semi-space-size as told', async () => {
    const { before, held } = await probe(YOUNG, ['--max-semi-space-size=16']);
    expect(held, 'grown while loading').to.be.greaterThan(2 * before!);
  });

  it('loads the PostgreSQL driver only when the signals listener first connects', async () => {
    const { atStart, afterStart } = await probe(`import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const pg = () => Object.keys(require.cache).filter((k) => /node_modules\\/pg\\//.test(k)).length;
await import(${src('app/runtime.ts')});
await import(${src('http/app.ts')});
const { PgSignalListener } = await import(${src('store/PgSignals.ts')});
const atStart = pg();
const quiet = { warn() {}, info() {}, error() {}, debug() {} };
// a port nothing listens on: the attempt fails (and would retry), after loading the driver
const listener = new PgSignalListener('postgres://nobody@127.0.0.1:9/none', () => undefined, quiet as never);
await listener.start();
await listener.close();
console.log(JSON.stringify({ atStart, afterStart: pg() }));
`);
    expect(atStart).to.equal(0);
    expect(afterStart).to.be.greaterThan(0);
  });
});
