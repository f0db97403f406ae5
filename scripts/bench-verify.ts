/**
 * Proofs verified per second: the auditor CLI's batch mode (`verify --dir`, all cores) beside
 * OpenSSL run the way an auditor without the CLI would — one `openssl cms -verify -cades` and
 * one `openssl ts -verify` process per proof — measured in the same run on the same proofs.
 *
 *   npm run bench:verify [-- --proofs 10000 --openssl 300 --pool process|thread|both --rounds 3]
 *
 * The proofs are sealed by the service's sealing code (Sealer over evidence statements,
 * built-in TSA, ECDSA P-256 development PKI) into a temporary folder. The batch figure is the
 * wall time of the whole CLI process (start-up, folder walk, workers, reports as JSON lines).
 * The OpenSSL loop runs one pair per proof with as many pairs at once as there are cores; the
 * time-stamp token and signature value each `openssl ts -verify` needs are extracted from the
 * proofs beforehand and not timed (OpenSSL has no command for it), which favours OpenSSL.
 * Each round measures every contender once, interleaved, and the median round is printed
 * with the range: on a shared machine that is fairer than one long run of each.
 * Runs compiled (dist/), so that `--pool thread` can be measured too.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../src/config.js';
import { createDevPki, derToPem, extractTimeStamp, LocalTimeStamper, TimeStampAuthority } from '../src/crypto/index.js';
import { buildStatement } from '../src/domain/EvidenceStatement.js';
import { Sealer } from '../src/registered-mail/sealing.js';

const { values } = parseArgs({
  options: {
    proofs: { type: 'string', default: '10000' },
    openssl: { type: 'string', default: '300' },
    pool: { type: 'string', default: 'both' },
    keep: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
  },
});
const N = Number(values.proofs);
const M = Math.min(Number(values.openssl), N);
const pools = values.pool === 'both' ? ['process', 'thread'] : [values.pool!];
const HERE = path.dirname(fileURLToPath(import.meta.url));
const VERIFY = path.resolve(HERE, '..', 'src', 'cli', `verify${path.extname(fileURLToPath(import.meta.url))}`);
const cores = os.availableParallelism();

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => execFile(cmd, args, { maxBuffer: 1 << 26 }, (err) => resolve(err ? ((err as { code?: number }).code ?? 1) : 0)));
}

async function makeProofs(dir: string): Promise<{ files: string[]; root: string }> {
  const pki = await createDevPki('ECDSA-P256');
  const root = path.join(dir, 'root.pem');
  fs.writeFileSync(root, derToPem(pki.root.certificate, 'CERTIFICATE'));
  const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1 })));
  fs.mkdirSync(path.join(dir, 'proofs'));
  const files: string[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const now = new Date();
    const statement = buildStatement({
      evidenceId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      type: 'SubmissionAcceptance',
      eventTime: now,
      policyOid: DEFAULT_EVIDENCE_POLICY_OID,
      issuerName: 'Registered Mail Trust Service (bench)',
      sender: { id: 'bench-sender', name: 'Bench Institution', reference: `REF-${i}` },
      recipient: { type: 'citizen', id: '85073003328' },
      submissionTime: now,
      messageId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
      documents: [{ partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: 102_400, isMain: true, sha256: 'ab'.repeat(32) }],
      previousEvidenceSha256: null,
    });
    const sealed = await sealer.seal(statement, new Date(Math.floor(now.getTime() / 1000) * 1000));
    const file = path.join(dir, 'proofs', `${String(i).padStart(5, '0')}.p7s`);
    fs.writeFileSync(file, sealed.der);
    files.push(file);
  }
  console.log(`sealed ${N} proofs with the service's Sealer in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { files, root };
}

async function batch(dir: string, root: string, pool: string): Promise<number> {
  const t0 = performance.now();
  const lines = await new Promise<string[]>((resolve, reject) => {
    const child = spawn(process.execPath, [VERIFY, '--dir', path.join(dir, 'proofs'), '--trust', root, '--json', '--no-progress', '--pool', pool], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => (code === 0 ? resolve(out.trim().split('\n')) : reject(new Error(`verify --dir exited ${code}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  const passed = lines.filter((l) => JSON.parse(l).indication === 'TOTAL_PASSED').length;
  if (passed !== N) throw new Error(`only ${passed} of ${N} proofs passed`);
  return N / seconds;
}

let extracted: Array<{ file: string; tst: string; sig: string }> | undefined;

async function opensslLoop(dir: string, files: string[], root: string): Promise<number> {
  extracted ??= files.slice(0, M).map((file, i) => {
    const { token, signatureValue } = extractTimeStamp(new Uint8Array(fs.readFileSync(file)));
    const tst = path.join(dir, `tst-${i}.der`);
    const sig = path.join(dir, `sig-${i}.bin`);
    fs.writeFileSync(tst, token);
    fs.writeFileSync(sig, signatureValue);
    return { file, tst, sig };
  });
  const proofs = extracted;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (next < proofs.length) {
        const p = proofs[next++]!;
        const cms = await run('openssl', ['cms', '-verify', '-cades', '-inform', 'DER', '-in', p.file, '-CAfile', root, '-out', '/dev/null']);
        const ts = await run('openssl', ['ts', '-verify', '-token_in', '-in', p.tst, '-data', p.sig, '-CAfile', root]);
        if (cms !== 0 || ts !== 0) throw new Error(`openssl refused ${p.file}`);
      }
    }),
  );
  return M / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  if (!VERIFY.endsWith('.js')) throw new Error('run the compiled bench: npm run bench:verify');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-'));
  try {
    console.log(`node ${process.version}, ${cores} cores`);
    const { files, root } = await makeProofs(dir);
    const rounds = Math.max(1, Number(values.rounds));
    const samples: Record<string, number[]> = Object.fromEntries([...pools, 'openssl'].map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (const pool of pools) samples[pool]!.push(await batch(dir, root, pool));
      samples.openssl!.push(await opensslLoop(dir, files, root));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const show = (xs: number[]) => `${median(xs).toFixed(1)} proofs/s${xs.length > 1 ? ` (median of ${xs.length}; ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})` : ''}`;
    console.log('');
    for (const pool of pools) console.log(`verify --dir (${cores} worker ${pool === 'thread' ? 'threads' : 'processes'}), ${N} proofs: ${show(samples[pool]!)}`);
    console.log(`openssl cms -verify + openssl ts -verify, one pair per proof, ${cores} at a time, ${M} proofs: ${show(samples.openssl!)}`);
    const best = Math.max(...pools.map((p) => median(samples[p]!)));
    console.log(`ratio (CLI batch / OpenSSL pair per proof, medians): ${(best / median(samples.openssl!)).toFixed(1)}×`);
  } finally {
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`proofs kept in ${dir}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
