/**
 * Runs the auditor CLIs (src/cli/verify.ts, verify-log.ts, export.ts) as real child
 * processes through tsx, as a user would run `npm run verify -- …`: exit code, stdout, stderr.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const VERIFY_FIXTURES = path.join(ROOT, 'test', 'fixtures', 'verify');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command args` to its end: exit code, stdout, stderr. */
export function runProcess(command: string, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...(options.env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export function runCli(cli: 'verify' | 'verify-log' | 'export', args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return runProcess(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src', 'cli', `${cli}.ts`), ...args], options);
}

/** `--json` output: one object (or, with --dir, one per line). */
export function jsonLines(out: string): any[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

/** Runs `work` over `items` with at most `limit` at a time. */
export async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i]!);
      }
    }),
  );
  return out;
}
