#!/usr/bin/env node
/**
 * Checks an exported event log offline: the hash chain of log/events.jsonl (redacted rows
 * included, by linkage), each time-stamped checkpoint against the trust anchors, that both
 * ends of the slice are pinned, and — with the export's manifest — that each proof in the
 * bundle is the one the log recorded. Names the first row that breaks. A checkpoint token with
 * an evidence record (`log/checkpoints/<eventSeq>.ers`, or the entry's `record`) is also
 * checked through it, and validated at the record's POE when its TSA certificate has expired
 * by --at (docs/evidence-records.md).
 *
 *   verify-log EXPORT_DIR [--trust ROOT.pem]… [--at TIME] [--json]
 *
 * Without --trust the bundle's own trust/anchors.pem is used and the fact is printed: check
 * its fingerprint against the published anchors. Exit: 0 TOTAL_PASSED, 1 TOTAL_FAILED,
 * 2 INDETERMINATE, 3 usage error, 4 internal error.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { locateLog, verifyExportedLog } from '../audit/log.js';
import { insideBundle } from '../audit/batch.js';
import { loadTrustAnchors, type TrustAnchors } from '../audit/verify.js';
import { exitCodeFor, parseTime, runCli, UsageError } from './report/exit.js';
import { colors, renderLogReport, wantColor } from './report/render.js';

interface Options {
  trust: string[];
  at?: string;
  json: boolean;
  color?: boolean;
  progress?: boolean;
}

async function main(argv: string[]): Promise<number> {
  const cmd = new Command('verify-log')
    .description('Verify an exported event log: hash chain, time-stamped checkpoints, and the proofs it records.')
    .argument('<export>', 'the folder `export` wrote')
    .option('--trust <file>', 'trust anchor certificates, PEM or DER (repeatable; default: the bundle\'s)', (v: string, p: string[]) => [...p, v], [])
    .option('--at <time>', 'validate the checkpoint tokens\' certificate paths at this time (RFC 3339) instead of their genTime')
    .option('--json', 'JSON output', false)
    .option('--no-color', 'no colour even on a terminal')
    .option('--no-progress', 'no progress bar')
    .exitOverride()
    .showHelpAfterError('(verify-log --help lists the options)');
  cmd.parse(argv);
  const opts = cmd.opts<Options>();
  const bundle = cmd.args[0]!;
  const at = opts.at !== undefined ? parseTime(opts.at, '--at') : undefined;
  const { manifest } = await locateLog(bundle);
  let anchors: TrustAnchors;
  if (opts.trust.length > 0) anchors = await loadTrustAnchors(opts.trust);
  else if (manifest && manifest.trustAnchors.length > 0) {
    anchors = await loadTrustAnchors(manifest.trustAnchors.map((t) => insideBundle(bundle, t)));
    process.stderr.write(`verify-log: no --trust given; using the bundle's trust anchors: ${anchors.certificates.map((a) => `${a.subject} sha256 ${a.sha256}`).join('; ')}\n`);
  } else throw new UsageError('--trust ROOT.pem is required (the folder has no manifest.json naming trust anchors)');

  const bar = opts.progress !== false && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: 'checkpoints [{bar}] {value}/{total}', clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
  let started = false;
  const report = await verifyExportedLog(bundle, {
    trustAnchors: anchors.der,
    ...(at ? { at } : {}),
    onCheckpoint: (done, total) => {
      if (!bar) return;
      if (!started) bar.start(total, 0);
      started = true;
      bar.update(done);
    },
  });
  bar?.stop();
  if (opts.json) process.stdout.write(JSON.stringify({ ...report, trustAnchors: anchors.certificates }) + '\n');
  else process.stdout.write(renderLogReport(colors(wantColor(process.stdout, opts.color)), report, anchors));
  return exitCodeFor(report.indication);
}

await runCli('verify-log', () => main(process.argv));
