/**
 * The young generation held at its first size while the service loads.
 *
 * Loading the modules makes objects that all live on (code, tables, the configuration), and
 * V8 grows its young generation each time most of it survives a collection: by the first
 * request it is at its largest (two 16 MiB semi-spaces), and those pages stay resident until
 * V8 finds the process idle, while requests need little of them. Imported first by the entry
 * point, this module keeps V8 from growing it (`--semi-space-growth-factor=1`) until the
 * service is up; `releaseStartupHeap()` gives V8 its default back, so under load the young generation
 * grows as before. A process started with its own `--max-semi-space-size` (a node option
 * or in NODE_OPTIONS) or `--semi-space-growth-factor` is left as it was told.
 *
 * Held, a fresh process has some 15 MiB less resident; `npm run bench:http` measures the
 * 2 GiB upload's peak RSS (README, Performance). The modules' parsing counts too: the entry
 * point (server.ts) imports this module alone, and the service only after it.
 */
import v8 from 'node:v8';

/** V8's default (src/flags/flag-definitions.h). */
const DEFAULT_GROWTH_FACTOR = 2;

const told = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((arg) => /^--(semi[-_]space[-_]growth[-_]factor|max[-_]semi[-_]space[-_]size)\b/.test(arg));
let held = false;
if (!told) {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/** Lets V8 grow the young generation again (once the service is up). */
export function releaseStartupHeap(): void {
  if (!held) return;
  held = false;
  v8.setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
}
