#!/usr/bin/env node
/**
 * Operator side: writes the audit bundle of one sender's messages submitted in a period —
 * proofs, decoded statements, a manifest, the event-log slice with its checkpoints (other
 * senders' rows redacted), the trust anchors and optionally the documents — for an auditor
 * to check offline with `verify --dir` and `verify-log`.
 *
 *   export --sender ID --from TIME --to TIME --out DIR [--trust CA.pem]… [--documents] [--receipts LANGS] [--json]
 *
 * Reads the database the service's configuration names (DATABASE_URL, DATA_DIR, …, as the
 * server does). The trust anchors are the --trust files, or with the development PKI its
 * root.pem. Before reading, it time-stamps the event log's head with the service's TSA (TSA_URL
 * or the built-in TSA's key), as the periodic checkpoint does, so that the slice's tail is
 * pinned even for an export made minutes after the last message; --no-checkpoint (a read-only
 * database) or a TSA that does not answer leave the tail unpinned until the next periodic
 * checkpoint, and say so. Then it enters every proof and checkpoint not yet in a hash tree into
 * one (one time-stamp per tree, as the periodic evidence-records job does), so that each proof
 * of the bundle has its RFC 4998 evidence record beside it (`<seq>-<type>.ers`) and each
 * checkpoint beside its token; with --no-checkpoint only the records already made are written.
 * With --receipts each proof's PDF receipt is written too, signed
 * with the sealing key and the TSA as the service signs them. Exit: 0 written, 3 usage or configuration error, 4 internal error.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { checkpointHead } from '../registered-mail/maintenance.js';
import { EvidenceRecordService } from '../registered-mail/records.js';
import type { DigestTimeStamper } from '../crypto/index.js';
import { AuditError } from '../audit/errors.js';
import { exportAuditBundle } from '../audit/export.js';
import { loadTrustAnchors } from '../audit/verify.js';
import { createReceipts, createTimeStamping, devPkiDir } from '../app/runtime.js';
import { LANGUAGES, type Language } from '../domain/EvidenceStatement.js';
import { openStore } from '../app/store.js';
import { createLogger } from '../logger.js';
import { EXIT, parseTime, runCli, UsageError } from './report/exit.js';

interface Options {
  sender: string;
  from: string;
  to: string;
  out: string;
  trust: string[];
  documents: boolean;
  receipts?: string;
  json: boolean;
  checkpoint: boolean;
}

async function trustAnchorsPem(files: string[], config: Config): Promise<string> {
  if (files.length === 0) {
    if (config.sealing.kind !== 'dev') throw new UsageError('--trust CA.pem is required: the sealing key is not the development PKI, so name the CA certificate(s) its proofs chain to');
    files = [path.join(devPkiDir(config), 'root.pem')];
  }
  await loadTrustAnchors(files); // refuses anything that is not a certificate
  const texts: string[] = [];
  for (const f of files) {
    const raw = await fs.readFile(f);
    texts.push(raw.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? raw.toString('utf8').trim() : `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----`);
  }
  return texts.join('\n') + '\n';
}

/** The TSA the service time-stamps with: TSA_URL, else the built-in TSA's key (the development PKI's by default). */
async function main(argv: string[]): Promise<number> {
  const cmd = new Command('export')
    .description("Write an auditor's bundle of one sender's proofs and the event log covering them.")
    .requiredOption('--sender <id>', 'the sender whose messages to export')
    .requiredOption('--from <time>', 'messages submitted at or after this time (RFC 3339 or a date)')
    .requiredOption('--to <time>', 'and before this time')
    .requiredOption('--out <dir>', 'a new (or empty) folder for the bundle')
    .option('--trust <file>', 'trust anchor certificates to ship (default: the development root)', (v: string, p: string[]) => [...p, v], [])
    .option('--documents', 'copy the documents too (those retention has not purged)', false)
    .option('--receipts <langs>', `write each proof's PDF receipt too, in these languages (comma-separated: ${LANGUAGES.join(',')}, or all)`)
    .option('--json', 'print the result as JSON', false)
    .option('--no-checkpoint', "do not time-stamp the event log's head first (the tail stays unpinned until the next periodic checkpoint)")
    .exitOverride()
    .showHelpAfterError('(export --help lists the options)');
  cmd.parse(argv);
  const opts = cmd.opts<Options>();
  const languages = opts.receipts === undefined ? undefined : receiptLanguages(opts.receipts);
  const from = parseTime(opts.from, '--from');
  const to = parseTime(opts.to, '--to');
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`configuration error: ${err.message}`);
    throw err;
  }
  const pem = await trustAnchorsPem(opts.trust, config);
  const store = await openStore(config, { migrate: false });
  let receipts: Awaited<ReturnType<typeof createReceipts>> | undefined;
  try {
    const log = createLogger(config.logLevel);
    let stamping: Awaited<ReturnType<typeof createTimeStamping>> | undefined;
    let records: EvidenceRecordService | undefined;
    try {
      if (opts.checkpoint) {
        try {
          stamping = await createTimeStamping(config, { log });
          // the slice's tail pinned, then every proof and checkpoint (the new one too) in a time-stamped tree
          await checkpointHead(store.repositories, stamping.timeStamper);
          records = new EvidenceRecordService(store.repositories, stamping.timeStamper, config, log);
          await records.enterPending();
        } catch (err) {
          if (/no such table|relation .* does not exist/i.test((err as Error).message ?? '')) throw err;
          process.stderr.write(`export: warning: the event log's head or the pending proofs could not be time-stamped (${(err as Error).message}); exporting with what is time-stamped already\n`);
        }
      }
    } finally {
      await stamping?.close();
    }
    // reading records asks no TSA
    records ??= new EvidenceRecordService(store.repositories, NO_TIME_STAMPS, config, log);
    const recordSource = records;
    if (languages) receipts = await createReceipts(config, { log: createLogger(config.logLevel) });
    const service = receipts?.receipts;
    const result = await exportAuditBundle(store.repositories, {
      senderId: opts.sender,
      from,
      to,
      outDir: opts.out,
      trustAnchorsPem: pem,
      ...(opts.documents ? { documents: store.blobs } : {}),
      records: { evidence: (e) => recordSource.record('evidence', e.id), checkpoint: (c) => recordSource.record('checkpoint', String(c.id)) },
      ...(service && languages ? { receipts: { languages, render: async (e, language) => (await service.receipt(e, language)).pdf } } : {}),
    });
    if (opts.json) process.stdout.write(JSON.stringify(result) + '\n');
    else {
      process.stdout.write(
        `exported ${result.messages} messages, ${result.proofs} proofs, ${result.records} evidence records${languages ? `, ${result.receipts} receipts` : ''}${opts.documents ? `, ${result.documents} documents (${result.documentsPurged} purged)` : ''}, ` +
          `event-log rows ${result.fromSeq}..${result.toSeq} (${result.redactedRows} redacted) with ${result.checkpoints} checkpoints to ${result.outDir}\n`,
      );
    }
    if (result.recordsPending > 0) process.stderr.write(`export: warning: ${result.recordsPending} proofs or checkpoints have no evidence record yet (in no time-stamped tree); an export after the next tree has them\n`);
    if (!result.headPinned) process.stderr.write(`export: warning: row ${result.toSeq} is not checkpointed yet; verify-log will report the tail as unpinned until an export after the next checkpoint\n`);
    return EXIT.PASSED;
  } catch (err) {
    if (err instanceof AuditError) throw err;
    if (/no such table|relation .* does not exist/i.test((err as Error).message ?? '')) throw new UsageError(`the database has no service tables (${(err as Error).message}); check DATABASE_URL`);
    throw err;
  } finally {
    await receipts?.close();
    await store.close();
  }
}

/** The stamper of an export that time-stamps nothing (--no-checkpoint): records are only read. */
const NO_TIME_STAMPS: DigestTimeStamper = {
  timestamp: () => Promise.reject(new Error('this export time-stamps nothing')),
  timestampDigest: () => Promise.reject(new Error('this export time-stamps nothing')),
};

function receiptLanguages(list: string): Language[] {
  if (list === 'all') return [...LANGUAGES];
  const asked = list.split(',').map((l) => l.trim());
  const unknown = asked.filter((l) => !(LANGUAGES as readonly string[]).includes(l));
  if (asked.length === 0 || unknown.length > 0) throw new UsageError(`--receipts: give languages among ${LANGUAGES.join(', ')} (comma-separated) or all; not ${unknown.join(', ') || 'nothing'}`);
  return [...new Set(asked)] as Language[];
}

await runCli('export', () => main(process.argv));
