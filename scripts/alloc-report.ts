/**
 * Sums an allocation profile written under BENCH_ALLOC_PROFILE_DIR (scripts/alloc-sampler.ts):
 * the sampled bytes in all, the functions and packages that allocated most (their own
 * allocations), and with `--match regex` the bytes allocated inside the functions or files the
 * regex names (their callees included). With `--per N` each figure is also given per N units
 * of work (the letters the server answered, say).
 *
 *   node dist/scripts/alloc-report.js dir/alloc-1234.heapprofile --match 'canonicalJson|safe-stable-stringify' --per 4306
 */
import fs from 'node:fs';
import { Command } from 'commander';

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const program = new Command()
  .argument('<profile>', 'a .heapprofile written by alloc-sampler')
  .option('--match <regex>', 'bytes allocated inside functions or files matching this')
  .option('--per <n>', 'also per this many units of work', Number)
  .option('--top <n>', 'functions and packages listed', Number, 20)
  .parse();
const [file] = program.args as [string];
const opts = program.opts<{ match?: string; per?: number; top: number }>();
const head = (JSON.parse(fs.readFileSync(file, 'utf8')) as { head: ProfileNode }).head;
const where = (url: string) => url.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, '$1').replace(/^.*\/dist\//, '');
const byFunction = new Map<string, number>();
const byPlace = new Map<string, number>();
const match = opts.match ? new RegExp(opts.match) : undefined;
let total = 0;
let matched = 0;
const walk = (n: ProfileNode, inside: boolean) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const here = inside || (match !== undefined && (match.test(functionName) || match.test(url)));
  total += n.selfSize;
  if (here) matched += n.selfSize;
  const key = `${functionName || '(anonymous)'} ${where(url)}:${lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + n.selfSize);
  const place = where(url) || functionName;
  byPlace.set(place, (byPlace.get(place) ?? 0) + n.selfSize);
  for (const c of n.children) walk(c, here);
};
walk(head, false);
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB${opts.per ? `, ${(b / 1024 / opts.per).toFixed(1)} KB per unit` : ''}`;
const share = (b: number) => `${((100 * b) / total).toFixed(1).padStart(5)}%`;
console.log(`sampled allocations: ${mb(total)}`);
if (match) console.log(`inside /${match.source}/: ${mb(matched)} (${share(matched).trim()})`);
for (const [title, map] of [['functions (own allocations)', byFunction], ['files and packages', byPlace]] as const) {
  console.log(`\n${title}:`);
  for (const [k, b] of [...map].sort((a, b) => b[1] - a[1]).slice(0, opts.top)) console.log(`${share(b)}  ${k}`);
}
