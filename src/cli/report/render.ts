/**
 * Human-readable reports: one named line per check, the indication last. Colour only when
 * asked (the CLIs ask when stdout is a TTY and NO_COLOR is not set); without colour the
 * marks `ok`/`FAIL` still carry the meaning, so a report pasted into a ticket reads the same.
 */
import pc from 'picocolors';
import type { Indication } from '../../crypto/index.js';
import type { ProofReport } from '../../audit/verify.js';
import type { TrustAnchors } from '../../audit/verify.js';
import type { LogReport } from '../../audit/log.js';

export type Colors = ReturnType<typeof pc.createColors>;

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled);
}

/** Colour by default on a TTY; NO_COLOR (https://no-color.org) and FORCE_COLOR are honoured. */
export function wantColor(stream: NodeJS.WriteStream, option: boolean | undefined): boolean {
  if (option === false) return false;
  if (process.env.NO_COLOR) return false;
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

export function paintIndication(c: Colors, indication: Indication, text: string = indication): string {
  if (indication === 'TOTAL_PASSED') return c.green(c.bold(text));
  if (indication === 'TOTAL_FAILED') return c.red(c.bold(text));
  return c.yellow(c.bold(text));
}

function mark(c: Colors, check: { passed: boolean }, fatal: boolean): string {
  if (check.passed) return c.green('ok  ');
  return fatal ? c.red('FAIL') : c.yellow('FAIL');
}

const FATAL = new Set<string>(['FORMAT_FAILURE', 'HASH_FAILURE', 'SIG_CRYPTO_FAILURE', 'TIMESTAMP_IMPRINT_MISMATCH', 'REVOKED']);

export function renderCheckLines(c: Colors, checks: ReadonlyArray<{ name: string; passed: boolean; subIndication?: string; detail: string }>): string[] {
  const width = Math.max(...checks.map((k) => k.name.length), 10);
  return checks.map((k) => {
    const fatal = k.subIndication ? FATAL.has(k.subIndication) : false;
    const sub = k.passed ? '' : ` ${fatal ? c.red(k.subIndication ?? '') : c.yellow(k.subIndication ?? '')}`;
    return `  ${mark(c, k, fatal)} ${k.name.padEnd(width)}${sub}  ${c.dim(k.detail)}`;
  });
}

export function renderProofReport(c: Colors, r: ProofReport, anchors?: TrustAnchors): string {
  const lines = [c.bold(r.file)];
  lines.push(...renderCheckLines(c, r.checks));
  const facts: Array<[string, string | undefined]> = [
    ['signer', r.signerSubject],
    ['signing-time', r.signingTime],
    ['time-stamp', r.genTime && `${r.genTime}${r.tsaSubject ? ` by ${r.tsaSubject}` : ''}`],
    ['evidence', r.statement && [r.statement.type, r.statement.evidenceId && `id ${r.statement.evidenceId}`].filter(Boolean).join(', ')],
    ['message', r.statement?.messageId],
    ['event time', r.statement?.eventTime],
    ['sender', r.statement?.sender],
    ['documents', r.statement?.documents?.map((d) => `${d.fileName} (sha256 ${d.sha256.slice(0, 16)}…)`).join(', ')],
    ['proof sha256', r.sha256],
    ['record', r.evidenceRecord && `${r.evidenceRecord.file}${r.evidenceRecord.source === 'beside' ? ' (found beside the proof)' : ''}: ${r.evidenceRecord.timeStamps.map((t) => `${t.genTime}${t.tsa ? ` by ${t.tsa}` : ''}`).join(', renewed ') || 'no readable archive time-stamp'}`],
    ['existed at', r.evidenceRecord?.poe && `${r.evidenceRecord.poe} (POE from the evidence record, validated at ${r.evidenceRecord.validatedAt})`],
    ['validated at', r.validatedAtPoe && `${r.validatedAtPoe}: certificate paths and revocation at the POE (past signature validation)`],
  ];
  const shown = facts.filter((f): f is [string, string] => Boolean(f[1]));
  if (shown.length) {
    lines.push('');
    for (const [k, v] of shown) lines.push(`  ${c.dim(k.padEnd(13))} ${v}`);
  }
  if (anchors) lines.push(`  ${c.dim('trust anchors'.padEnd(13))} ${anchors.certificates.map((a) => `${a.subject} (sha256 ${a.sha256.slice(0, 16)}…)`).join('; ')}`);
  lines.push('');
  lines.push(`  ${paintIndication(c, r.indication)}${r.subIndication ? ` / ${r.subIndication}` : ''}`);
  return lines.join('\n') + '\n';
}

export interface BatchSummary {
  total: number;
  seconds: number;
  workers: number;
  pool: string;
  counts: Map<string, number>;
  notPassed: ProofReport[];
}

/** The summary table `verify --dir` prints after the run. */
export function renderSummary(c: Colors, s: BatchSummary, limit = 50): string {
  const lines: string[] = [];
  const rate = s.seconds > 0 ? s.total / s.seconds : s.total;
  lines.push(c.bold(`Verified ${s.total} proof${s.total === 1 ? '' : 's'} in ${s.seconds.toFixed(2)} s (${rate.toFixed(1)} proofs/s, ${s.workers === 0 ? 'in process' : `${s.workers} ${s.pool === 'thread' ? 'worker threads' : 'worker processes'}`})`));
  lines.push('');
  const rows: Array<[string, string, string]> = [['indication', 'sub-indication', 'proofs']];
  const order: Indication[] = ['TOTAL_PASSED', 'TOTAL_FAILED', 'INDETERMINATE'];
  const keys = [...s.counts.keys()].sort((a, b) => order.indexOf(a.split('/')[0] as Indication) - order.indexOf(b.split('/')[0] as Indication) || a.localeCompare(b));
  for (const k of keys) {
    const [ind, sub] = k.split('/');
    rows.push([ind!, sub ?? '', String(s.counts.get(k))]);
  }
  if (keys.length === 0) rows.push(['TOTAL_PASSED', '', '0']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  const w2 = Math.max(...rows.map((r) => r[2].length));
  rows.forEach((r, i) => {
    const text = `  ${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2].padStart(w2)}`;
    lines.push(i === 0 ? c.dim(text) : r[0] === 'TOTAL_PASSED' || r[0] === 'TOTAL_FAILED' || r[0] === 'INDETERMINATE' ? paintIndication(c, r[0] as Indication, text) : text);
  });
  if (s.notPassed.length > 0) {
    lines.push('');
    lines.push(c.bold('Not passed:'));
    for (const r of s.notPassed.slice(0, limit)) {
      const first = r.checks.find((k) => !k.passed && k.subIndication === r.subIndication) ?? r.checks.find((k) => !k.passed);
      lines.push(`  ${paintIndication(c, r.indication)} ${r.subIndication ?? ''}  ${r.file}`);
      if (first) lines.push(`      ${first.name}: ${c.dim(first.detail)}`);
      // a record that failed says why no proof of existence helped, even when another line decided
      const record = r.checks.find((k) => k.name === 'EVIDENCE_RECORD' && !k.passed);
      if (record && record !== first) lines.push(`      ${record.name}: ${c.dim(record.detail)}`);
    }
    if (s.notPassed.length > limit) lines.push(`  … and ${s.notPassed.length - limit} more (--json lists every proof)`);
  }
  return lines.join('\n') + '\n';
}

/** Proof reports as JSON: what `--json` prints (one object; `--dir` prints one per line). */
export function proofJson(r: ProofReport): string {
  return JSON.stringify(r);
}

/** The report of `verify-log`. */
export function renderLogReport(c: Colors, r: LogReport, anchors?: TrustAnchors): string {
  const lines = [c.bold(`event log of ${r.bundle}`)];
  lines.push(...renderCheckLines(c, r.checks));
  lines.push('');
  lines.push(`  ${c.dim('rows'.padEnd(13))} ${r.rows} (seq ${r.fromSeq ?? '?'}..${r.toSeq ?? '?'}, ${r.redactedRows} redacted), ${r.checkpoints} checkpoints`);
  if (anchors) lines.push(`  ${c.dim('trust anchors'.padEnd(13))} ${anchors.certificates.map((a) => `${a.subject} (sha256 ${a.sha256.slice(0, 16)}…)`).join('; ')}`);
  if (r.firstBreak) lines.push(`  ${c.red(c.bold('first break'.padEnd(13)))} row ${Number.isNaN(r.firstBreak.seq) ? '?' : r.firstBreak.seq}${r.firstBreak.line ? ` (line ${r.firstBreak.line} of the events file)` : ''}: ${r.firstBreak.detail}`);
  lines.push('');
  lines.push(`  ${paintIndication(c, r.indication)}${r.subIndication ? ` / ${r.subIndication}` : ''}`);
  return lines.join('\n') + '\n';
}
