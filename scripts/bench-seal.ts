/**
 * bench:seal — CAdES-T proofs sealed per second per core, for ECDSA P-256 and RSA-2048 and a
 * 100 KB document, all measured in this run:
 *   - the proof writer (CadesTWriter, src/crypto/CadesT.ts) with the built-in TSA's token
 *     writer, keys held in this process, one thread;
 *   - baseline: an OpenSSL CLI loop, one proof = `openssl cms -sign -cades` + `openssl ts
 *     -query` + `openssl ts -reply`, one process after the other;
 *   - baseline: the hashing + signing limit, only what a proof cannot do without (SHA-256 of
 *     the document, two native signatures over attribute-sized inputs, the three small
 *     hashes), measured in turns with the writer, best turn of each (the machine is shared);
 *   - the worker-thread pool (SealingPool, both cores), when the compiled worker exists;
 *   - and for a 2 KB statement (what the service seals), the writer and the pool;
 *   - PKCS#11: the same writer with both keys in a SoftHSM2 token (Pkcs11.ts; the sealer seals
 *     so in the main thread, 16 proofs in flight), for the 100 KB document and the 2 KB
 *     statement; and where its time goes: the token's signatures alone (16 in flight, and the
 *     latency of one at a time) beside the same signature with the key in the process.
 *
 *   npm run bench:seal            (builds, then runs dist/scripts/bench-seal.js)
 *   BENCH_SECONDS=5 OPENSSL_PROOFS=50 npm run bench:seal
 */
import { KeyObject, createHash, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CadesTWriter, KeyObjectSigner, Pkcs11Signer, SealingPool, TimeStampAuthority, readCertificateFile, signerFor, verifyCadesT, type KeyAlgorithm } from '../src/crypto/index.js';
import { bestOfInterleaved, fmt, machine, pkiFiles, POLICY, procCpuSeconds, rateAsync, rateSync, run, seconds, showRate, table, type Rate } from './bench-lib.js';
import { benchToken } from './bench-pkcs11.js';

const IN_FLIGHT = 16;

/** The writer with both keys in a SoftHSM2 token, and the token's signatures alone. */
async function pkcs11(algorithm: KeyAlgorithm, document: Uint8Array, statement: Uint8Array, inProcess: KeyObjectSigner) {
  const token = await benchToken(algorithm);
  const where = { module: token.module, tokenLabel: token.tokenLabel, pinFile: token.pinFile };
  const seal = await Pkcs11Signer.open({ ...where, keyLabel: token.pki.sealKeyLabel, sessions: IN_FLIGHT });
  const tsaSigner = await Pkcs11Signer.open({ ...where, keyLabel: token.pki.tsaKeyLabel, sessions: IN_FLIGHT });
  try {
    const tsa = new TimeStampAuthority(tsaSigner, { policyOid: POLICY, accuracyMs: 1 });
    const writer = new CadesTWriter(seal, tsa.tokenTemplate);
    const [root] = await readCertificateFile(token.pki.root);
    const check = await verifyCadesT(await writer.seal(document), { trustAnchors: [root!] });
    if (check.indication !== 'TOTAL_PASSED') throw new Error(`the PKCS#11 proof does not verify: ${JSON.stringify(check.checks)}`);
    const attrs = randomBytes(280);
    return {
      document: await rateAsync(() => writer.seal(document), T, 20, IN_FLIGHT),
      statement: await rateAsync(() => writer.seal(statement), T, 20, IN_FLIGHT),
      signatures: await rateAsync(() => seal.sign(attrs), T, 20, IN_FLIGHT),
      oneAtATime: await rateAsync(() => seal.sign(attrs), T, 20, 1),
      inProcess: rateSync(() => inProcess.signSync(attrs), T),
    };
  } finally {
    await seal.close();
    await tsaSigner.close();
  }
}

const DOCUMENT_BYTES = 100 * 1024;
const T = seconds(3);
const OPENSSL_PROOFS = Number(process.env.OPENSSL_PROOFS ?? 30);

async function opensslLoop(files: Awaited<ReturnType<typeof pkiFiles>>, document: Uint8Array): Promise<Rate> {
  const f = (name: string) => path.join(files.dir, name);
  await fs.writeFile(f('document.bin'), document);
  const once = async () => {
    await run('openssl', ['cms', '-sign', '-cades', '-binary', '-nodetach', '-md', 'sha256', '-in', f('document.bin'), '-signer', files.sealCert, '-inkey', files.sealKey, '-certfile', files.root, '-outform', 'DER', '-out', f('proof.der')]);
    await run('openssl', ['ts', '-query', '-data', f('proof.der'), '-sha256', '-cert', '-out', f('q.tsq')]);
    await run('openssl', ['ts', '-reply', '-config', files.tsaConfig, '-queryfile', f('q.tsq'), '-inkey', files.tsaKey, '-signer', files.tsaCert, '-out', f('r.tsr')]);
  };
  await once();
  const start = performance.now();
  const cpu0 = await procCpuSeconds('self', true);
  for (let i = 0; i < OPENSSL_PROOFS; i++) await once();
  const wall = (OPENSSL_PROOFS * 1000) / (performance.now() - start);
  return { wall, cpu: OPENSSL_PROOFS / Math.max(0.01, (await procCpuSeconds('self', true)) - cpu0) };
}

async function bench(algorithm: KeyAlgorithm): Promise<Array<string | number>> {
  const files = await pkiFiles(algorithm);
  const { pki } = files;
  const document = new Uint8Array(randomBytes(DOCUMENT_BYTES));

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
  const { writer: writerRate, limit: limitRate } = bestOfInterleaved(
    {
      writer: () => writer.sealSync(document),
      limit: () => {
        createHash('sha256').update(document).digest();
        const s = sign('sha256', attrs, ecdsa ? { key: sealKey, dsaEncoding: 'der' } : sealKey);
        createHash('sha256').update(s).digest();
        createHash('sha256').update(tstInfo).digest();
        sign('sha256', tokenAttrs, ecdsa ? { key: tsaKey, dsaEncoding: 'der' } : tsaKey);
      },
    },
    2 * T,
  );

  // What the service seals: a statement of ~2 KB, in one thread and in the pool.
  const statement = new Uint8Array(randomBytes(2048));
  const { writer: writerStatement } = bestOfInterleaved({ writer: () => writer.sealSync(statement) }, T, 3);
  let poolRate: Rate | undefined;
  let poolStatement: Rate | undefined;
  const workerFile = SealingPool.workerFile() ?? path.resolve(import.meta.dirname, '../src/crypto/workers/sealWorker.js');
  const tsaConfig = tsa.nativeConfig();
  if (tsaConfig && (await fs.stat(workerFile).catch(() => undefined))) {
    const pool = new SealingPool(2, { seal: signer.identity, tsa: tsaConfig }, workerFile);
    poolRate = await rateAsync(() => pool.seal(document, new Date()), T, 50, 16);
    poolStatement = await rateAsync(() => pool.seal(statement, new Date()), T, 50, 16);
    await pool.close();
  }

  const opensslRate = await opensslLoop(files, document);
  await fs.rm(files.dir, { recursive: true, force: true });
  const p11 = await pkcs11(algorithm, document, statement, signer);
  pkcs11Rows.push([
    algorithm,
    showRate(p11.document),
    showRate(p11.statement),
    showRate(p11.signatures),
    `${fmt(1e6 / p11.oneAtATime.wall)} µs`,
    showRate(p11.inProcess),
    `${fmt((100 * p11.statement.wall) / (writerStatement.wall), 0)}%`,
  ]);
  return [
    algorithm,
    showRate(writerRate),
    showRate(opensslRate),
    showRate(limitRate),
    `${fmt(writerRate.cpu / opensslRate.cpu, 0)}×`,
    `${fmt((100 * writerRate.cpu) / limitRate.cpu)}%`,
    poolRate === undefined ? 'n/a (no dist/)' : showRate(poolRate),
    showRate(writerStatement),
    poolStatement === undefined ? 'n/a (no dist/)' : showRate(poolStatement),
  ];
}

const pkcs11Rows: Array<Array<string | number>> = [
  ['algorithm', `PKCS#11 writer, ${IN_FLIGHT} in flight`, '2 KB: PKCS#11 writer', `token signatures/s (${IN_FLIGHT} in flight)`, 'one token signature', 'in-process signatures/s', '2 KB: PKCS#11 / in-process writer'],
];

async function main(): Promise<void> {
  console.log(`bench:seal — CAdES-T proofs/s, ${DOCUMENT_BYTES / 1024} KB document, ${T} s per figure; ${machine()}`);
  console.log('each figure: proofs per second of wall-clock time (proofs per CPU-second: the per-core figure, steady on a shared machine); ratios from CPU-seconds');
  const rows: Array<Array<string | number>> = [
    ['algorithm', 'writer (1 thread)', `OpenSSL CLI loop (${OPENSSL_PROOFS}, baseline)`, 'hash+sign limit (baseline)', 'writer/OpenSSL', 'writer/limit', 'pool, 2 threads', '2 KB: writer, 1 thread', '2 KB: pool, 2 threads'],
  ];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) rows.push(await bench(algorithm));
  table(rows);
  console.log('');
  console.log('PKCS#11 column: both keys in a SoftHSM2 token (two token signatures per proof), same run; in-process signatures: the same key size held by node:crypto, one thread');
  table(pkcs11Rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
