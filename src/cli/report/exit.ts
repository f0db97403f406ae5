/**
 * What the auditor CLIs share: exit codes, usage errors, time parsing, and the one place
 * that turns an error into a message (never a stack trace, unless DEBUG is set).
 *
 * Exit codes: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE, 3 usage error (bad option,
 * missing file, unusable trust anchor), 4 the tool itself failed (a defect; say so in a bug).
 * Standard output closed by its reader (`| head`): exit 0 at once, nothing printed.
 */
import { CommanderError } from 'commander';
import type { Indication } from '../../crypto/index.js';
import { AuditError } from '../../audit/errors.js';

export const EXIT = { PASSED: 0, FAILED: 1, INDETERMINATE: 2, USAGE: 3, INTERNAL: 4 } as const;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function exitCodeFor(indication: Indication): number {
  if (indication === 'TOTAL_PASSED') return EXIT.PASSED;
  if (indication === 'TOTAL_FAILED') return EXIT.FAILED;
  return EXIT.INDETERMINATE;
}

/** The worst of several indications: any TOTAL_FAILED, else any INDETERMINATE, else TOTAL_PASSED. */
export function worst(indications: Iterable<Indication>): Indication {
  let out: Indication = 'TOTAL_PASSED';
  for (const i of indications) {
    if (i === 'TOTAL_FAILED') return i;
    if (i === 'INDETERMINATE') out = i;
  }
  return out;
}

const RFC3339ISH = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An RFC 3339 date-time or a date (`2026-11-22`, `2026-11-22T10:00:00Z`); a date-time without
 * an offset is taken as UTC, so that a report does not depend on the auditor's time zone.
 */
export function parseTime(value: string, option: string): Date {
  const v = value.trim();
  if (!RFC3339ISH.test(v)) throw new UsageError(`${option}: "${value}" is not a time (use RFC 3339, e.g. 2026-11-22T10:00:00Z, or a date 2026-11-22)`);
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/i.test(v);
  const iso = v.length === 10 ? `${v}T00:00:00Z` : hasOffset ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${option}: "${value}" is not a valid time`);
  return d;
}

/**
 * A standard output closed by its reader (`verify --dir D --json | head -1`: head has what it
 * wanted and exits) ends the tool at once, quietly, with exit 0 — as a head pipeline expects,
 * rather than an EPIPE stack trace and exit 1. The verdict of what was not written is then not
 * reported: a script that needs it reads the whole output or the exit code without a pipe.
 * Any other failure to write the output is an internal error (exit 4), said on stderr.
 */
export function endQuietlyWhenStdoutCloses(name: string, stdout: NodeJS.WriteStream = process.stdout): void {
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.PASSED);
    process.stderr.write(`${name}: cannot write the output: ${err.message}\n`);
    process.exit(EXIT.INTERNAL);
  });
}

/**
 * Runs a CLI's main function and sets the exit code. Commander's own errors (unknown option,
 * missing argument) were already printed by commander; ours are printed here.
 */
export async function runCli(name: string, main: () => Promise<number>): Promise<void> {
  endQuietlyWhenStdoutCloses(name);
  try {
    process.exitCode = await main();
  } catch (err) {
    process.exitCode = reportError(name, err);
  }
}

export function reportError(name: string, err: unknown): number {
  if (err instanceof CommanderError) {
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : EXIT.USAGE;
  }
  if (err instanceof UsageError || err instanceof AuditError) {
    process.stderr.write(`${name}: ${err.message}\n`);
    return EXIT.USAGE;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`${name}: internal error: ${message}\n`);
  if (process.env.DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return EXIT.INTERNAL;
}
