#!/usr/bin/env node
/**
 * The auditor's verifier, offline: checks CAdES-T proofs against trust anchors and prints a
 * validation report (EU DSS indications, ETSI TS 119 102-1), one named line per check.
 *
 *   verify proof.p7s [--document FILE]… [--record proof.ers] --trust ROOT.pem [--trust …] [--crl FILE]… [--at TIME] [--json]
 *   verify --dir DIR [--trust ROOT.pem]… [--crl FILE]… [--at TIME] [--json] [--jobs N]
 *
 * With an RFC 4998 evidence record — `--record FILE`, or else the `.ers` of the same stem
 * beside the proof (`proof.ers` beside `proof.p7s`, as an export bundle lays it out; the
 * report says it was found there) — the report gains an EVIDENCE_RECORD line: the proof
 * existed at the first archive time-stamp's genTime (its POE), or the record check that
 * failed (INDETERMINATE / NO_POE). A proof that does not pass at --at (a certificate expired,
 * revoked: OUT_OF_BOUNDS_NO_POE, REVOKED_NO_POE…) but does at the POE time is TOTAL_PASSED by
 * past signature validation (docs/evidence-records.md, "Auditor side"). The record is
 * validated at --at, or now; --no-record ignores a record beside the proof.
 *
 * With --crl the signer and TSA certificates are checked against their issuer's CRLs
 * (REVOCATION, TSA_REVOCATION lines; docs/revocation.md); without, no revocation data is
 * consulted and the report is what it was.
 *
 * With --dir every *.p7s under DIR is checked on all cores; an export's manifest.json says
 * which statement copy, documents and evidence record belong to each proof (a proof it does
 * not list: the documents and `.ers` beside it), and its trust anchors are used when no
 * --trust is given (say so in the audit: the published anchors are the ones to use). The
 * archive time-stamps a tree's records share are verified once per worker, not per proof.
 *
 * Exit: 0 TOTAL_PASSED, 1 TOTAL_FAILED, 2 INDETERMINATE (the worst proof decides with --dir),
 * 3 usage error, 4 internal error. Run as `npm run verify -- …`, `node dist/src/cli/verify.js`
 * or the `rm-verify` bin.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import { planDirectory } from '../audit/batch.js';
import { loadCrls, loadTrustAnchors, recordBeside, recordVerifierFor, verifyForBatch, verifyProofFile, type ProofInput, type ProofReport, type TrustAnchors } from '../audit/verify.js';
import { EXIT, exitCodeFor, parseTime, runCli, UsageError, worst } from './report/exit.js';
import { colors, proofJson, renderProofReport, renderSummary, wantColor } from './report/render.js';
import { runPool, type PoolKind } from './verify-pool.js';

/** Worker threads need the compiled worker (tsx cannot load TypeScript in worker_threads on Node 20). */
const DEFAULT_POOL: PoolKind = import.meta.url.endsWith('.js') ? 'thread' : 'process';

interface Options {
  document: string[];
  trust: string[];
  crl: string[];
  record?: string | boolean;
  at?: string;
  json: boolean;
  dir?: string;
  jobs?: string;
  pool: PoolKind;
  color?: boolean;
  progress?: boolean;
}

/** Up to this many proofs, --dir verifies in this process unless --jobs is given. */
const SMALL_RUN = 32;

const collect = (value: string, previous: string[]) => [...previous, value];

function program(): Command {
  return new Command('verify')
    .description('Verify CAdES-T proofs (and the documents they name) offline against trust anchors.')
    .argument('[proof]', 'a proof (.p7s, DER)')
    .option('--document <file>', 'a document the proof names; its SHA-256 must equal the statement\'s (repeatable)', collect, [])
    .option('--trust <file>', 'trust anchor certificates, PEM or DER (repeatable)', collect, [])
    .option('--crl <file>', 'a CRL (DER or PEM) to check the signer and TSA certificates against (repeatable)', collect, [])
    .option('--record <file>', 'the proof\'s RFC 4998 evidence record (DER; default: the .ers of the same stem beside the proof)')
    .option('--no-record', 'ignore an evidence record beside the proof')
    .option('--at <time>', 'validate certificate paths at this time (RFC 3339) instead of the time-stamp\'s genTime')
    .option('--dir <dir>', 'verify every .p7s under this folder (e.g. an export bundle)')
    .option('--json', 'JSON output (with --dir: one line per proof)', false)
    .option('--jobs <n>', 'worker count with --dir (default: one per core; 0 = in this process)')
    .addOption(new Option('--pool <kind>', 'worker kind with --dir (default: thread when compiled, process from the TypeScript sources)').choices(['process', 'thread']).default(DEFAULT_POOL))
    .option('--no-color', 'no colour even on a terminal')
    .option('--no-progress', 'no progress bar with --dir')
    .exitOverride()
    .showHelpAfterError('(verify --help lists the options)');
}

function jobsOption(value: string | undefined): number {
  if (value === undefined) return os.availableParallelism();
  if (!/^\d+$/.test(value) || Number(value) > 256) throw new UsageError(`--jobs: "${value}" is not a worker count (0–256)`);
  return Number(value);
}

async function main(argv: string[]): Promise<number> {
  const cmd = program();
  cmd.parse(argv);
  const opts = cmd.opts<Options>();
  const proof = cmd.args[0];
  const at = opts.at !== undefined ? parseTime(opts.at, '--at') : undefined;
  if (opts.dir !== undefined) {
    if (proof !== undefined) throw new UsageError('give either a proof file or --dir DIR, not both');
    if (opts.document.length > 0) throw new UsageError('--document goes with a single proof; with --dir documents are found through manifest.json or by name');
    if (typeof opts.record === 'string') throw new UsageError('--record goes with a single proof; with --dir each proof\'s record is found through manifest.json or beside it');
    return verifyDirectory(opts.dir, opts, at);
  }
  if (proof === undefined) throw new UsageError('no proof given (verify proof.p7s --trust ROOT.pem, or verify --dir DIR)');
  if (opts.trust.length === 0) throw new UsageError('--trust ROOT.pem is required: the trust anchors to validate against');
  const anchors = await loadTrustAnchors(opts.trust);
  const crls = await loadCrls(opts.crl);
  for (const d of opts.document) {
    const stat = await fs.stat(d).catch(() => undefined);
    if (!stat) throw new UsageError(`--document ${d}: no such file`);
    if (!stat.isFile()) throw new UsageError(`--document ${d}: not a regular file`);
  }
  let record: Pick<ProofInput, 'record' | 'recordSource'> = {};
  if (typeof opts.record === 'string') {
    const stat = await fs.stat(opts.record).catch(() => undefined);
    if (!stat) throw new UsageError(`--record ${opts.record}: no such file`);
    if (!stat.isFile()) throw new UsageError(`--record ${opts.record}: not a regular file`);
    record = { record: opts.record, recordSource: 'option' };
  } else if (opts.record !== false) {
    const beside = recordBeside(proof);
    if (beside !== proof && (await fs.stat(beside).catch(() => undefined))?.isFile()) record = { record: beside, recordSource: 'beside' };
  }
  const options = { trustAnchors: anchors.der, ...(at ? { at } : {}), ...(crls.length ? { crls } : {}) };
  const report = await verifyProofFile({ path: proof, documents: opts.document.map((d) => ({ path: d })), ...record }, { ...options, records: recordVerifierFor(options) });
  if (opts.json) process.stdout.write(JSON.stringify({ ...report, trustAnchors: anchors.certificates }) + '\n');
  else process.stdout.write(renderProofReport(colors(wantColor(process.stdout, opts.color)), report, anchors));
  return exitCodeFor(report.indication);
}

async function verifyDirectory(dir: string, opts: Options, at: Date | undefined): Promise<number> {
  const workers = jobsOption(opts.jobs);
  const plan = await planDirectory(dir);
  if (plan.inputs.length === 0 && plan.missing.length === 0) throw new UsageError(`${dir}: no .p7s file under it`);
  let anchors: TrustAnchors;
  if (opts.trust.length > 0) {
    anchors = await loadTrustAnchors(opts.trust);
  } else if (plan.bundleTrustFiles.length > 0) {
    anchors = await loadTrustAnchors(plan.bundleTrustFiles);
    // The bundle's own anchors prove only that the bundle is consistent; compare them with the published ones.
    process.stderr.write(`verify: no --trust given; using the bundle's trust anchors: ${anchors.certificates.map((a) => `${a.subject} sha256 ${a.sha256}`).join('; ')}\n`);
  } else {
    throw new UsageError('--trust ROOT.pem is required (the folder has no manifest.json naming trust anchors)');
  }

  const c = colors(wantColor(process.stdout, opts.color));
  const counts = new Map<string, number>();
  const notPassed: ProofReport[] = [];
  const indications: ProofReport['indication'][] = [];
  const showProgress = opts.progress !== false && Boolean(process.stderr.isTTY);
  const total = plan.inputs.length + plan.missing.length;
  const bar = showProgress
    ? new cliProgress.SingleBar({ stream: process.stderr, format: 'verifying [{bar}] {value}/{total} proofs | {rate}/s | ETA {eta_formatted}', hideCursor: true, clearOnComplete: true, etaBuffer: 200 }, cliProgress.Presets.shades_classic)
    : undefined;
  const started = performance.now();
  bar?.start(total, 0, { rate: '0' });
  const onReport = (r: ProofReport) => {
    const key = r.subIndication ? `${r.indication}/${r.subIndication}` : r.indication;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    indications.push(r.indication);
    if (r.indication !== 'TOTAL_PASSED') notPassed.push(r);
    if (opts.json) process.stdout.write(proofJson(r) + '\n');
    bar?.increment(1, { rate: (indications.length / Math.max(0.001, (performance.now() - started) / 1000)).toFixed(0) });
  };
  for (const missing of plan.missing) {
    onReport({ file: missing, indication: 'INDETERMINATE', subIndication: 'SIGNED_DATA_NOT_FOUND', checks: [{ name: 'CMS_STRUCTURE', passed: false, subIndication: 'SIGNED_DATA_NOT_FOUND', detail: 'manifest.json lists this proof but the file is missing' }] });
  }
  const crls = await loadCrls(opts.crl);
  const verifyOptions = { trustAnchors: anchors.der, ...(at ? { at } : {}), ...(crls.length ? { crls } : {}) };
  // Records are validated at --at or at the run's start, the same time in every worker.
  const recordsAt = at ?? new Date();
  const inputs = opts.record === false ? plan.inputs.map(({ record: _r, recordSource: _s, recordDisplay: _d, ...rest }) => rest) : plan.inputs;
  // A few dozen proofs are done here before workers would have started (~0.3 s each); --jobs N insists.
  const inProcess = workers === 0 || inputs.length <= 1 || (opts.jobs === undefined && inputs.length <= SMALL_RUN);
  if (inProcess) {
    const records = recordVerifierFor({ trustAnchors: anchors.der, at: recordsAt });
    for (const input of inputs as ProofInput[]) onReport(await verifyForBatch(input, { ...verifyOptions, records }));
  } else {
    await runPool(inputs, { ...verifyOptions, recordsAt, workers, kind: opts.pool }, onReport);
  }
  bar?.stop();
  const seconds = (performance.now() - started) / 1000;
  if (!opts.json) {
    notPassed.sort((a, b) => a.file.localeCompare(b.file));
    process.stdout.write(renderSummary(c, { total, seconds, workers: inProcess ? 0 : Math.min(workers, plan.inputs.length), pool: opts.pool, counts, notPassed }));
  }
  return total === 0 ? EXIT.USAGE : exitCodeFor(worst(indications));
}

await runCli('verify', () => main(process.argv));
