/**
 * bench:seal — CAdES-T proofs sealed per second per core, for ECDSA P-256 and RSA-2048 and a
 * 100 KB document, all measured in this run:
 *   - the proof writer (CadesTWriter, src/crypto/CadesT.ts) with the built-in TSA's token
 *     writer, keys held in this process, one thread;
 *   - baseline: an OpenSSL CLI loop, one proof = `openssl cms -sign -cades` + `openssl ts
 *     -query` + `openssl ts -reply`, one process after the other, a shell loop timed from
 *     outside (wall clock and CPU of the whole process tree);
 *   - baseline: the hashing + signing limit, only what a proof cannot do without (SHA-256 of
 *     the document, two native signatures over attribute-sized inputs, the three small
 *     hashes);
 *   - the worker-thread pool (SealingPool) with 1 and with 2 threads, when the compiled
 *     worker exists;
 *   - and each of these for a 2 KB statement (what the service seals) as well;
 *   - the canonical JSON (RFC 8785) of a statement, the text every proof envelops
 *     (src/domain/CanonicalJson.ts), against the `canonicalize` package it replaced (baseline);
 *   - PKCS#11: the same writer with both keys in a SoftHSM2 token (Pkcs11.ts; the sealer seals
 *     so in the main thread, 16 proofs in flight), for the 100 KB document and the 2 KB
 *     statement; and where its time goes: the token's signatures alone (16 in flight, and the
 *     latency of one at a time) beside the same signature with the key in the process.
 *
 * Every figure is measured in each of BENCH_ROUNDS rounds (default 3), in turns (A B C … A B
 * C …), each time after its own warm-up, for BENCH_SECONDS (default 1); the median over the
 * rounds is printed with its range.
 *
 *   npm run bench:seal            (builds, then runs dist/scripts/bench-seal.js)
 *   BENCH_SECONDS=2 BENCH_ROUNDS=5 OPENSSL_PROOFS=50 npm run bench:seal
 */
import { KeyObject, createHash, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import canonicalize from 'canonicalize';
import { canonicalJson } from '../src/domain/CanonicalJson.js';
import { CadesTWriter, KeyObjectSigner, Pkcs11Signer, SealingPool, TimeStampAuthority, readCertificateFile, signerFor, verifyCadesT, type KeyAlgorithm } from '../src/crypto/index.js';
import { fmt, interleaved, machine, mainThreadCpuSeconds, pkiFiles, POLICY, rateAsync, rateSync, rounds, seconds, settle, showRates, showSpread, spread, table, timeShell, type Rate } from './bench-lib.js';
import { benchToken } from './bench-pkcs11.js';
import { sampleHandover } from './sample-evidence.js';

const IN_FLIGHT = 16;
const DOCUMENT_BYTES = 100 * 1024;
const STATEMENT_BYTES = 2 * 1024;
/** seconds per figure per round */
const T = seconds(1);
const R = rounds();
const OPENSSL_PROOFS = Number(process.env.OPENSSL_PROOFS ?? 30);

/** The writer with both keys in a SoftHSM2 token, and the token's signatures alone: one round's figures. */
async function pkcs11(algorithm: KeyAlgorithm, document: Uint8Array, statement: Uint8Array, inProcess: KeyObjectSigner) {
  const token = await benchToken(algorithm);
  const where = { module: token.module, tokenLabel: token.tokenLabel, pinFile: token.pinFile };
  const seal = await Pkcs11Signer.open({ ...where, keyLabel: token.pki.sealKeyLabel, sessions: IN_FLIGHT });
  const tsaSigner = await Pkcs11Signer.open({ ...where, keyLabel: token.pki.tsaKeyLabel, sessions: IN_FLIGHT });
  const tsa = new TimeStampAuthority(tsaSigner, { policyOid: POLICY, accuracyMs: 1 });
  const writer = new CadesTWriter(seal, tsa.tokenTemplate);
  const [root] = await readCertificateFile(token.pki.root);
  const check = await verifyCadesT(await writer.seal(document), { trustAnchors: [root!] });
  if (check.indication !== 'TOTAL_PASSED') throw new Error(`the PKCS#11 proof does not verify: ${JSON.stringify(check.checks)}`);
  const attrs = randomBytes(280);
  return {
    contenders: {
      p11Document: () => rateAsync(() => writer.seal(document), T, 20, IN_FLIGHT),
      p11Statement: () => rateAsync(() => writer.seal(statement), T, 20, IN_FLIGHT),
      p11Signatures: () => rateAsync(() => seal.sign(attrs), T, 20, IN_FLIGHT),
      p11OneAtATime: () => rateAsync(() => seal.sign(attrs), T, 20, 1),
      inProcessSignatures: () => rateSync(() => inProcess.signSync(attrs), T),
    },
    async close() {
      await seal.close();
      await tsaSigner.close();
    },
  };
}

/** One proof = three OpenSSL processes, one after the other, in a shell loop timed from outside. */
function opensslLoop(files: Awaited<ReturnType<typeof pkiFiles>>): () => Promise<Rate> {
  const script = [
    `i=0; while [ $i -lt ${OPENSSL_PROOFS} ]; do`,
    `openssl cms -sign -cades -binary -nodetach -md sha256 -in document.bin -signer ${files.sealCert} -inkey ${files.sealKey} -certfile ${files.root} -outform DER -out proof.der &&`,
    'openssl ts -query -data proof.der -sha256 -cert -out q.tsq 2>/dev/null &&',
    `openssl ts -reply -config ${files.tsaConfig} -queryfile q.tsq -inkey ${files.tsaKey} -signer ${files.tsaCert} -out r.tsr 2>/dev/null || exit 1;`,
    'i=$((i+1)); done',
  ].join(' ');
  return async () => {
    const { seconds: wall, cpu } = await timeShell(script, { cwd: files.dir });
    return { wall: OPENSSL_PROOFS / wall, cpu: OPENSSL_PROOFS / cpu };
  };
}

/** A pool's rate, and the main thread's CPU per proof (sending the content, taking the proof back). */
interface PoolRate extends Rate {
  mainMicros: number;
}

async function poolRate(seal: () => Promise<unknown>): Promise<PoolRate> {
  for (let i = 0; i < 50; i++) await seal();
  const main0 = await mainThreadCpuSeconds();
  const r = await rateAsync(seal, T, 0, IN_FLIGHT);
  const main = (await mainThreadCpuSeconds()) - main0;
  return { ...r, mainMicros: (1e6 * main) / (r.wall * T) };
}

type Figures = Record<string, Rate[]>;

async function bench(algorithm: KeyAlgorithm): Promise<Figures> {
  const files = await pkiFiles(algorithm);
  const { pki } = files;
  const document = new Uint8Array(randomBytes(DOCUMENT_BYTES));
  const statement = new Uint8Array(randomBytes(STATEMENT_BYTES));
  await fs.writeFile(path.join(files.dir, 'document.bin'), document);

  const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
  const signer = signerFor(pki.seal);
  if (!(signer instanceof KeyObjectSigner)) throw new Error('the development PKI key is not a node:crypto key');
  const writer = new CadesTWriter(signer, tsa.tokenTemplate);
  const check = await verifyCadesT(writer.sealSync(document), { trustAnchors: [pki.root.certificate] });
  if (check.indication !== 'TOTAL_PASSED') throw new Error(`the proof does not verify: ${JSON.stringify(check.checks)}`);

  // The limit: hash the document, sign the signed attributes, hash the signature (imprint),
  // hash the TSTInfo, sign the token's signed attributes — nothing else.
  const sealKey = KeyObject.from(pki.seal.privateKey);
  const tsaKey = KeyObject.from(pki.tsa.privateKey);
  const attrs = randomBytes(280);
  const tokenAttrs = randomBytes(230);
  const tstInfo = randomBytes(100);
  const ecdsa = algorithm.startsWith('ECDSA');
  const limit = (content: Uint8Array) => () => {
    createHash('sha256').update(content).digest();
    const s = sign('sha256', attrs, ecdsa ? { key: sealKey, dsaEncoding: 'der' } : sealKey);
    createHash('sha256').update(s).digest();
    createHash('sha256').update(tstInfo).digest();
    sign('sha256', tokenAttrs, ecdsa ? { key: tsaKey, dsaEncoding: 'der' } : tsaKey);
  };

  const contenders: Record<string, () => Rate | Promise<Rate>> = {
    // every figure warms up on its own before it is timed, in every round
    writer: () => rateSync(() => writer.sealSync(document), T, 100),
    limit: () => rateSync(limit(document), T, 100),
    writerStatement: () => rateSync(() => writer.sealSync(statement), T, 100),
    limitStatement: () => rateSync(limit(statement), T, 100),
    openssl: opensslLoop(files),
  };
  const pools: SealingPool[] = [];
  const workerFile = SealingPool.workerFile() ?? path.resolve(import.meta.dirname, '../src/crypto/workers/sealWorker.js');
  const tsaConfig = tsa.nativeConfig();
  if (tsaConfig && (await fs.stat(workerFile).catch(() => undefined))) {
    for (const threads of [1, 2]) {
      const pool = new SealingPool(threads, { seal: signer.identity, tsa: tsaConfig }, workerFile);
      pools.push(pool);
      contenders[`pool${threads}`] = () => poolRate(() => pool.seal(document, new Date()));
      contenders[`pool${threads}Statement`] = () => poolRate(() => pool.seal(statement, new Date()));
    }
  }
  const p11 = await pkcs11(algorithm, document, statement, signer);
  Object.assign(contenders, p11.contenders);
  try {
    return await interleaved(R, contenders);
  } finally {
    await p11.close();
    for (const pool of pools) await pool.close();
    await fs.rm(files.dir, { recursive: true, force: true });
  }
}

/** The canonical JSON of one statement, this service's and the package it replaced, in turns. */
async function canonicalJsonRates() {
  const statement = sampleHandover(POLICY);
  const text = canonicalJson(statement);
  if (text !== canonicalize(statement)) throw new Error('canonicalJson and canonicalize disagree on the statement');
  const rates = await interleaved(R, {
    canonicalJson: () => rateSync(() => canonicalJson(statement), T, 2000),
    canonicalize: () => rateSync(() => canonicalize(statement), T, 2000),
  });
  return { ...rates, bytes: Buffer.byteLength(text!) };
}

async function main(): Promise<void> {
  await settle();
  console.log(`bench:seal — CAdES-T proofs/s, ${DOCUMENT_BYTES / 1024} KB document and ${STATEMENT_BYTES / 1024} KB statement, ${R} interleaved rounds of ${T} s per figure; ${machine()}`);
  console.log('each figure: proofs per second of wall-clock time, median over rounds (range), [per CPU-second of the whole process: the per-core figure]; ratios from the CPU-second medians');
  const results: Array<[KeyAlgorithm, Figures]> = [];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) results.push([algorithm, await bench(algorithm)]);
  const cpu = (rs: Rate[] | undefined) => (rs ? spread(rs.map((r) => r.cpu)).median : NaN);
  const show = (rs: Rate[] | undefined) => (rs ? showRates(rs) : 'n/a (no dist/)');

  console.log('');
  table([
    ['algorithm', 'writer, 1 thread', `OpenSSL CLI loop (${OPENSSL_PROOFS} proofs, baseline)`, 'hash+sign limit (baseline)', 'writer/OpenSSL', 'writer/limit'],
    ...results.map(([a, f]) => [a, show(f.writer), show(f.openssl), show(f.limit), `${fmt(cpu(f.writer) / cpu(f.openssl))}×`, `${fmt((100 * cpu(f.writer)) / cpu(f.limit))}%`]),
  ]);

  console.log('');
  console.log(`document size and threads: the same writer, 1 thread, and the worker-thread pool (SealingPool) with 1 and 2 threads, ${IN_FLIGHT} in flight`);
  const perRound = (a: Rate[] | undefined, b: Rate[] | undefined) => (a && b ? showSpread(a.map((x, i) => x.wall / b[i]!.wall), 2) : 'n/a');
  table([
    ['algorithm', 'content', 'writer, 1 thread', 'limit', 'pool, 1 thread', 'pool, 2 threads', 'pool 2 ÷ pool 1 (per round)', 'CPU µs/proof: writer / pool 1 / pool 2', 'of which main thread: pool 1 / pool 2'],
    ...results.flatMap(([a, f]) =>
      (
        [
          ['100 KB', f.writer, f.limit, f.pool1, f.pool2],
          ['2 KB', f.writerStatement, f.limitStatement, f.pool1Statement, f.pool2Statement],
        ] as const
      ).map(([content, w, l, p1, p2]) => [
        a,
        content,
        show(w),
        show(l),
        show(p1),
        show(p2),
        perRound(p2, p1),
        [w, p1, p2].map((x) => fmt(1e6 / cpu(x))).join(' / '),
        [p1, p2].map((x) => (x ? fmt(spread((x as PoolRate[]).map((r) => r.mainMicros)).median) : 'n/a')).join(' / '),
      ]),
    ),
  ]);
  for (const [a, f] of results) {
    const ratio = spread(f.writerStatement!.map((x, i) => x.wall / f.writer![i]!.wall));
    console.log(`${a}: 2 KB ÷ 100 KB, writer in the same rounds: ${fmt(ratio.median, 2)} (${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)})${ratio.min < 1 ? ' — below 1 in some round: that round was disturbed (the 2 KB proof does strictly less work)' : ''}`);
  }
  console.log(
    'The pool sends each content to a worker (postMessage: a structured-clone copy) and takes the proof back (transferred, not copied): per proof that is the main thread\'s CPU above plus the worker\'s side of the message, on top of the writer\'s own work. With 2 threads on 2 cores the main thread, V8\'s helper threads and any other process compete with the two workers, so the second thread adds what is left of a core, not a core.',
  );

  console.log('');
  const jcs = await canonicalJsonRates();
  console.log(`canonical JSON (RFC 8785) of a statement (${jcs.bytes} bytes, a handover of two documents), calls per second, median over ${R} interleaved rounds (range) [per CPU-second]; the same text from both`);
  table([
    ['canonicalJson (safe-stable-stringify)', 'canonicalize package (baseline)', 'µs per call: canonicalJson / canonicalize'],
    [showRates(jcs.canonicalJson), showRates(jcs.canonicalize), `${fmt(1e6 / cpu(jcs.canonicalJson), 2)} / ${fmt(1e6 / cpu(jcs.canonicalize), 2)}`],
  ]);

  console.log('');
  console.log('PKCS#11: both keys in a SoftHSM2 token (two token signatures per proof), same rounds; in-process signatures: the same key size held by node:crypto, one thread');
  table([
    ['algorithm', `PKCS#11 writer, 100 KB, ${IN_FLIGHT} in flight`, '2 KB: PKCS#11 writer', `token signatures/s (${IN_FLIGHT} in flight)`, 'one token signature', 'in-process signatures/s', '2 KB: PKCS#11 / in-process writer'],
    ...results.map(([a, f]) => [
      a,
      show(f.p11Document),
      show(f.p11Statement),
      show(f.p11Signatures),
      `${fmt(1e6 / spread(f.p11OneAtATime!.map((r) => r.wall)).median)} µs`,
      show(f.inProcessSignatures),
      `${fmt((100 * spread(f.p11Statement!.map((r) => r.wall)).median) / spread(f.writerStatement!.map((r) => r.wall)).median)}%`,
    ]),
  ]);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
