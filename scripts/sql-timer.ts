/**
 * Preloaded into a benchmarked server by `BENCH_SQL_TIMES_DIR=dir` (bench-lib startServer,
 * `node --import`): times every call the process makes into SQLite on its own thread —
 * better-sqlite3's `run`, `all` and `get` of each prepared statement, `exec` (BEGIN and COMMIT
 * by knex, the WAL's syncs are not among them: WalSync.ts runs those on libuv's pool) — and
 * writes, when the process exits, `sql-<pid>.txt`: per statement text, the milliseconds in
 * all, the calls, the microseconds per call, the longest call and the calls of 1 ms or more
 * (how much of a total a few slow calls make: a COMMIT that runs the checkpoint), largest first. For the main thread's SQLite
 * share by statement, which a CPU profile shows only as one native frame.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const dir = process.env.BENCH_SQL_TIMES_DIR;
if (dir) {
  /** the driver's constructor, as much of it as is patched here (it comes without types) */
  type Driver = { new (file: string): { prepare(sql: string): object; close(): void }; prototype: object };
  const Database = createRequire(import.meta.url)('better-sqlite3') as Driver;
  /** per statement: time in all, calls, the longest call, and the calls of 1 ms or more (a checkpoint's COMMIT) with their time */
  const times = new Map<string, { ms: number; calls: number; max: number; slow: number; slowMs: number }>();
  const timed = <A extends unknown[], R>(label: (self: unknown, args: A) => string, fn: (...args: A) => R) =>
    function (this: unknown, ...args: A): R {
      const start = performance.now();
      try {
        return fn.apply(this, args);
      } finally {
        const key = label(this, args).replace(/\s+/g, ' ').slice(0, 100);
        const t = times.get(key) ?? { ms: 0, calls: 0, max: 0, slow: 0, slowMs: 0 };
        const ms = performance.now() - start;
        t.ms += ms;
        t.calls++;
        t.max = Math.max(t.max, ms);
        if (ms >= 1) {
          t.slow++;
          t.slowMs += ms;
        }
        times.set(key, t);
      }
    };
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<'run' | 'all' | 'get', (...args: unknown[]) => unknown>;
  probe.close();
  for (const m of ['run', 'all', 'get'] as const) statementProto[m] = timed((self) => `${m} ${(self as { source: string }).source}`, statementProto[m]);
  const dbProto = Database.prototype as unknown as { exec: (sql: string) => unknown };
  dbProto.exec = timed((_self, [sql]: [string]) => `exec ${sql}`, dbProto.exec);
  process.on('exit', () => {
    const rows = [...times].sort((a, b) => b[1].ms - a[1].ms);
    const total = rows.reduce((n, [, t]) => n + t.ms, 0);
    const lines = rows.map(
      ([k, t]) =>
        `${t.ms.toFixed(0).padStart(8)} ms ${String(t.calls).padStart(8)} × ${((1000 * t.ms) / t.calls).toFixed(0).padStart(6)} µs  max ${t.max.toFixed(1).padStart(6)} ms  ≥ 1 ms: ${String(t.slow).padStart(5)} calls, ${t.slowMs.toFixed(0).padStart(6)} ms  ${k}`,
    );
    fs.writeFileSync(path.join(dir, `sql-${process.pid}.txt`), `${total.toFixed(0)} ms in SQLite calls on the process's own thread\n${lines.join('\n')}\n`);
  });
}
