/**
 * bench:verify — proofs verified per second over a folder, three ways, each timed as an
 * outsider would time it, on the same proofs, in the same run:
 *   - the project: `node dist/src/cli/verify.js --dir DIR --trust ROOT --json --no-progress`
 *     (one worker per core, worker threads and, separately, worker processes; certification
 *     paths cached per worker, its default), the whole process timed from outside as `time`
 *     would (start-up, folder walk, workers, reports written as JSON lines to a file);
 *   - OpenSSL: the same two commands per proof an auditor without the CLI would run,
 *     `openssl cms -verify -cades` and `openssl ts -verify`, from a plain shell pipeline
 *     (`ls | xargs -P<cores> sh -c 'for f; do openssl … && openssl …; done'`) timed from
 *     outside as a whole. The time-stamp token and signature value `openssl ts -verify` needs
 *     are extracted from the proofs beforehand, not timed (OpenSSL has no command for it);
 *   - Bouncy Castle: scripts/BenchVerifyBc.java (the checks of
 *     test/fixtures/crypto/bouncycastle/VerifyCadesT.java) in ONE JVM on <cores> threads,
 *     timed inside the JVM after a warm-up pass over every proof (JVM start and JIT excluded,
 *     which favours it; the project's figure includes its start-up).
 * Rounds are interleaved (project, project, OpenSSL, Bouncy Castle, then again) and each figure
 * is printed as the median over rounds with its range; beside it the proofs per CPU-second of
 * the whole command (all its processes and threads).
 *
 *   npm run bench:verify [-- --proofs 10000 --openssl 1000 --bc 3000 --pool process|thread|both --bc-threads N]
 *   BENCH_ROUNDS=3 (default) sets the rounds.
 * The proofs are sealed by the service's sealing code (Sealer over evidence statements,
 * built-in TSA, ECDSA P-256 development PKI) into a temporary folder.
 * Runs compiled (dist/), so that `--pool thread` can be measured too.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../src/config.js';
import { createDevPki, derToPem, extractTimeStamp, LocalTimeStamper, TimeStampAuthority } from '../src/crypto/index.js';
import { buildStatement } from '../src/domain/EvidenceStatement.js';
import { Sealer } from '../src/registered-mail/sealing.js';
import { fmt, interleaved, machine, procCpuSeconds, rounds, run, settle, showSpread, spread, table, timeShell } from './bench-lib.js';

const { values } = parseArgs({
  options: {
    proofs: { type: 'string', default: '10000' },
    openssl: { type: 'string', default: '1000' },
    bc: { type: 'string', default: '3000' },
    pool: { type: 'string', default: 'both' },
    'bc-threads': { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(values.proofs);
const M = Math.min(Number(values.openssl), N);
const B = Math.min(Number(values.bc), N);
const pools = values.pool === 'both' ? ['thread', 'process'] : [values.pool!];
const HERE = path.dirname(fileURLToPath(import.meta.url));
const VERIFY = path.resolve(HERE, '..', 'src', 'cli', `verify${path.extname(fileURLToPath(import.meta.url))}`);
const ROOT_DIR = path.resolve(HERE, '..', ...(HERE.includes(`${path.sep}dist${path.sep}`) ? ['..'] : []));
const cores = os.availableParallelism();
const BC_THREADS = Number(values['bc-threads'] ?? cores);
const BC_JARS = ['bcprov.jar', 'bcutil.jar', 'bcpkix.jar'].map((j) => path.join('/usr/share/java', j));

/** proofs/s over wall-clock time, and per CPU-second of everything the contender ran */
interface Rate {
  wall: number;
  cpu: number;
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

/** The whole `verify --dir` process, timed from outside; its JSON lines go to a file, as `> out.jsonl` would. */
async function batch(dir: string, root: string, pool: string): Promise<Rate> {
  const outFile = path.join(dir, `verify-${pool}.jsonl`);
  const out = fs.openSync(outFile, 'w');
  const cpu0 = await procCpuSeconds('self', true);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [VERIFY, '--dir', path.join(dir, 'proofs'), '--trust', root, '--json', '--no-progress', '--pool', pool], { stdio: ['ignore', out, 'inherit'] });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`verify --dir exited ${code}`))));
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await procCpuSeconds('self', true)) - cpu0;
  fs.closeSync(out);
  const lines = fs.readFileSync(outFile, 'utf8').trim().split('\n');
  const passed = lines.filter((l) => JSON.parse(l).indication === 'TOTAL_PASSED').length;
  if (passed !== N) throw new Error(`only ${passed} of ${N} proofs passed`);
  return { wall: N / seconds, cpu: N / cpu };
}

/** The token and signature value of each of the first M proofs, as files beside them (not timed). */
function extractForOpenssl(dir: string, files: string[]): void {
  fs.mkdirSync(path.join(dir, 'openssl'));
  for (const file of files.slice(0, M)) {
    const { token, signatureValue } = extractTimeStamp(new Uint8Array(fs.readFileSync(file)));
    const base = path.join(dir, 'openssl', path.basename(file, '.p7s'));
    fs.writeFileSync(`${base}.tst`, token);
    fs.writeFileSync(`${base}.sig`, signatureValue);
  }
}

/** The shell pipeline an outsider would time: `openssl cms -verify` + `openssl ts -verify` per proof, <cores> at a time. */
function opensslScript(): string {
  const pair =
    'for f; do b=$(basename "$f" .p7s); ' +
    'openssl cms -verify -cades -binary -inform DER -in "$f" -CAfile root.pem -out /dev/null 2>/dev/null && ' +
    'openssl ts -verify -token_in -in "openssl/$b.tst" -data "openssl/$b.sig" -CAfile root.pem >/dev/null 2>&1 || exit 255; done';
  return `ls proofs/*.p7s | head -n ${M} | xargs -P ${cores} -n 50 sh -c '${pair}' sh`;
}

async function opensslLoop(dir: string): Promise<Rate> {
  const { seconds, cpu } = await timeShell(opensslScript(), { cwd: dir });
  return { wall: M / seconds, cpu: M / cpu };
}

/** Bouncy Castle in one JVM, kept between rounds: compiled into `dir`, warmed up on every proof. */
async function bouncyCastle(dir: string, root: string): Promise<{ warmup: string; round(): Promise<Rate>; close(): void }> {
  const missing = BC_JARS.filter((j) => !fs.existsSync(j));
  if (missing.length > 0) throw new Error(`Bouncy Castle jars missing (${missing.join(', ')}): apt-get install libbcpkix-java default-jdk-headless`);
  const classes = path.join(dir, 'bc-classes');
  const sources = [path.join(ROOT_DIR, 'scripts', 'BenchVerifyBc.java'), path.join(ROOT_DIR, 'test', 'fixtures', 'crypto', 'bouncycastle', 'VerifyCadesT.java')];
  await run('javac', ['-nowarn', '-cp', BC_JARS.join(':'), '-d', classes, ...sources]);
  const jvmStarted = performance.now();
  const child = spawn('java', ['-cp', [...BC_JARS, classes].join(':'), 'BenchVerifyBc', '--root', root, '--threads', String(BC_THREADS), '--limit', String(B), path.join(dir, 'proofs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await lines.next();
    if (line.done) throw new Error(`the Bouncy Castle verifier exited (${child.exitCode})`);
    return line.value.split(' ');
  };
  const [ready, count, warm] = await next();
  if (ready !== 'ready' || Number(count) !== B) throw new Error(`Bouncy Castle: expected "ready ${B}", got "${ready} ${count}"`);
  const warmup = `JVM start and warm-up pass over the ${B} proofs: ${((performance.now() - jvmStarted) / 1000).toFixed(1)} s (the pass itself ${Number(warm).toFixed(1)} s)`;
  return {
    warmup,
    async round() {
      const cpu0 = await procCpuSeconds(child.pid!);
      child.stdin.write('round\n');
      const [word, proofs, seconds] = await next();
      if (word !== 'round') throw new Error(`Bouncy Castle: unexpected "${word}"`);
      return { wall: Number(proofs) / Number(seconds), cpu: Number(proofs) / ((await procCpuSeconds(child.pid!)) - cpu0) };
    },
    close() {
      child.stdin.end('quit\n');
    },
  };
}

async function main(): Promise<void> {
  if (!VERIFY.endsWith('.js')) throw new Error('run the compiled bench: npm run bench:verify');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-verify-'));
  try {
    const { files, root } = await makeProofs(dir);
    extractForOpenssl(dir, files);
    const bc = await bouncyCastle(dir, root);
    console.log(`Bouncy Castle: ${bc.warmup}`);
    await settle();
    const R = rounds();
    console.log(`bench:verify — ${N} ECDSA P-256 proofs (OpenSSL: the first ${M}, Bouncy Castle: the first ${B}), ${R} interleaved rounds; ${machine()}`);
    const contenders: Record<string, () => Promise<Rate>> = {};
    for (const pool of pools) contenders[pool] = () => batch(dir, root, pool);
    contenders.openssl = () => opensslLoop(dir);
    contenders.bc = () => bc.round();
    const samples = await interleaved(R, contenders);
    bc.close();
    const wall = (k: string) => samples[k]!.map((r) => r.wall);
    const cpu = (k: string) => samples[k]!.map((r) => r.cpu);
    const median = (k: string) => spread(wall(k)).median;
    const rows: Array<Array<string | number>> = [['contender (how it is timed)', 'proofs/s, median (range)', 'per CPU-second, median (range)']];
    for (const pool of pools)
      rows.push([`verify --dir, ${cores} worker ${pool === 'thread' ? 'threads' : 'processes'}, path cache (default); whole process from outside, ${N} proofs`, showSpread(wall(pool)), showSpread(cpu(pool))]);
    rows.push([`openssl cms -verify + openssl ts -verify per proof, xargs -P${cores}; whole pipeline from outside, ${M} proofs`, showSpread(wall('openssl')), showSpread(cpu('openssl'))]);
    rows.push([`Bouncy Castle 1.72, one JVM, ${BC_THREADS} threads, PKIX path per proof; inside the JVM after warm-up, ${B} proofs`, showSpread(wall('bc')), showSpread(cpu('bc'))]);
    table(rows);
    const project = pools.includes('thread') ? 'thread' : pools[0]!;
    const projectName = `verify --dir (${cores} worker ${project === 'thread' ? 'threads' : 'processes'})`;
    console.log('');
    console.log(`${projectName} ÷ OpenSSL pair per proof (xargs -P${cores}): ${fmt(median(project) / median('openssl'), 1)}× (medians; per CPU-second ${fmt(spread(cpu(project)).median / spread(cpu('openssl')).median, 1)}×)`);
    console.log(
      `${projectName} ÷ Bouncy Castle (${BC_THREADS} threads, warm JVM): ${fmt(median(project) / median('bc'), 1)}× (medians; per CPU-second ${fmt(spread(cpu(project)).median / spread(cpu('bc')).median, 1)}×) — the project's figure includes its process start-up, Bouncy Castle's excludes the JVM's and its JIT warm-up`,
    );
  } finally {
    if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
    else console.log(`proofs kept in ${dir}`);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
