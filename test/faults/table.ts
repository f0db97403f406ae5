/** The report of a run: one row per scenario and database, then what went wrong and what was noted. */
import { meetsBar, RECOVERY_BAR_SECONDS, type ScenarioResult } from './campaign.js';

const COLUMNS = ['scenario', 'database', 'submissions', 'acknowledged', 'faults', 'lost', 'duplicated', 'stuck', 'orphans', '5xx other', 'recovery max s', 'bar'] as const;

export function row(r: ScenarioResult): string[] {
  if (r.skipped) return [r.scenario, r.database, '—', '—', '—', '—', '—', '—', '—', '—', '—', r.skipped];
  const max = r.recoveries.length ? Math.max(...r.recoveries) : NaN;
  return [
    r.scenario,
    r.database,
    String(r.submissions),
    String(r.acknowledged),
    String(r.faults),
    String(r.lost),
    String(r.duplicated),
    String(r.stuck),
    String(r.orphans),
    String(r.other5xx),
    Number.isNaN(max) ? '—' : max.toFixed(1),
    meetsBar(r) ? 'met' : 'MISSED',
  ];
}

/** A Markdown table (aligned, so that it reads in a terminal too). */
export function table(results: ScenarioResult[]): string {
  const rows = [COLUMNS as readonly string[], ...results.map(row)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => (i < 2 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((w, i) => (i < 2 || i === widths.length - 1 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

export function details(results: ScenarioResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    if (r.skipped) continue;
    out.push(`${r.scenario} (${r.database}), seed ${r.seed}, ${r.durationSeconds.toFixed(0)} s: answers ${Object.entries(r.answers).map(([k, n]) => `${k} ×${n}`).join(', ')}; recovery s ${summary(r.recoveries)}${r.crashes ? `; ${r.crashes} crashes` : ''}`);
    for (const p of r.problems) out.push(`  ✗ ${p}`);
    for (const n of r.notes) out.push(`  · ${n}`);
  }
  out.push(`bar: every submission acknowledged, 0 lost, 0 duplicated, 0 stuck, 0 orphans, no 5xx but 503/507, no crash, each recovery ≤ ${RECOVERY_BAR_SECONDS} s`);
  return out.join('\n');
}

function summary(xs: number[]): string {
  if (xs.length === 0) return '—';
  const sorted = [...xs].sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(1);
  return `median ${q(0.5)}, p90 ${q(0.9)}, max ${sorted[sorted.length - 1]!.toFixed(1)}`;
}
