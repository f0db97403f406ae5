/**
 * The compiled service, as `npm start` runs it: builds dist/ from the sources once per test
 * process (`tsc -p tsconfig.dev.json`, the development build `npm start` makes; incremental:
 * an unchanged tree rebuilds in seconds) and the pages (scripts/build-pages.ts), so a spec that runs dist/ never runs a stale build and never skips for the want of one.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildPages } from '../../scripts/build-pages.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const DIST = path.join(ROOT, 'dist');
/** What the specs run: the server entry point and the sealing worker it starts. */
export const COMPILED = {
  server: path.join(DIST, 'src/cli/server.js'),
  sealWorker: path.join(DIST, 'src/crypto/workers/sealWorker.js'),
  verify: path.join(DIST, 'src/cli/verify.js'),
  createSender: path.join(DIST, 'scripts/create-sender.js'),
};
const BUILD_INFO = path.join(DIST, '.tsbuildinfo');

let building: Promise<void> | undefined;

/** Builds dist/ (once per process; later calls wait for the same build). Throws with tsc's output if it fails. */
export function ensureBuild(): Promise<void> {
  building ??= build();
  return building;
}

async function build(): Promise<void> {
  // tsc trusts its build info: if outputs were deleted by hand, forget it and emit everything
  if (existsSync(BUILD_INFO) && !Object.values(COMPILED).every((f) => existsSync(f))) rmSync(BUILD_INFO);
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  const result = await new Promise<{ code: number; out: string }>((resolve) => {
    execFile(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.dev.json'), '--incremental', '--tsBuildInfoFile', BUILD_INFO], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
  if (result.code !== 0) throw new Error(`the build (tsc -p tsconfig.dev.json) failed:\n${result.out}`);
  const missing = Object.values(COMPILED).filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`the build did not produce ${missing.join(', ')}`);
  await ensurePages();
}

let buildingPages: Promise<void> | undefined;

/** Builds the pages (npm run build:pages: dist/pages/verify.html), once per process. */
export function ensurePages(): Promise<void> {
  buildingPages ??= buildPages().then(() => undefined);
  return buildingPages;
}
