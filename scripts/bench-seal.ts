/**
 * bench:seal — CAdES-T proofs sealed per second per core, for ECDSA P-256 and RSA-2048 and a
 * 100 KB document, all measured in this run:
 *   - fast path: FastSealer with the built-in TSA's native token writer, one thread;
 *   - object path (the baseline): sealCadesT (WebCrypto signatures, structures built one by
 *     one) with the TSA on its object engine, the token checked as LocalTimeStamper checks it,
 *     through WebCrypto — the sealing path as it was before the fast path;
 *   - an OpenSSL CLI loop, one proof = `openssl cms -sign -cades` + `openssl ts -query` +
 *     `openssl ts -reply`, one process after the other;
 *   - the hashing + signing limit: only what a proof cannot do without (SHA-256 of the
 *     document, two native signatures over attribute-sized inputs, the three small hashes),
 *     measured in turns with the fast path, best turn of each (the machine is shared);
 *   - the worker-thread pool (SealingPool, both cores), when the compiled worker exists;
 *   - and for a 2 KB statement (what the service seals), the fast path and the pool.
 *
 *   npm run bench:seal            (builds, then runs dist/scripts/bench-seal.js)
 *   BENCH_SECONDS=5 OPENSSL_PROOFS=50 npm run bench:seal
 */
import { KeyObject, createHash, randomBytes, sign } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { checkTokenAnswers, sha256Imprint } from '../src/crypto/TimeStamper.js';
import { randomPositiveInteger } from '../src/crypto/random.js';
import { FastSealer, SealingPool, TimeStampAuthority, nativeSigningIdentity, sealCadesT, verifyCadesT, type KeyAlgorithm, type TimeStamper } from '../src/crypto/index.js';
import { bestOfInterleaved, fmt, machine, pkiFiles, POLICY, procCpuSeconds, rateAsync, run, seconds, showRate, table, type Rate } from './bench-lib.js';

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

  const nativeTsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
  const native = nativeSigningIdentity(pki.seal)!;
  const fast = new FastSealer(native, nativeTsa.tokenTemplate);
  const check = await verifyCadesT(fast.sealSync(document), { trustAnchors: [pki.root.certificate] });
  if (check.indication !== 'TOTAL_PASSED') throw new Error(`fast proof does not verify: ${JSON.stringify(check.checks)}`);

  // The object path as it was: every structure built, every signature made and checked
  // through WebCrypto (LocalTimeStamper's answer check, given WebCrypto explicitly).
  const objectTsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1, engine: 'object' });
  const objectStamper: TimeStamper = {
    async timestamp(data) {
      const imprint = sha256Imprint(data);
      const nonce = randomPositiveInteger(8);
      const token = await objectTsa.issueToken(imprint, { nonce, certReq: true });
      await checkTokenAnswers(token, { ...imprint, nonce, policy: objectTsa.policyOid }, globalThis.crypto);
      return token;
    },
  };
  const objectRate = await rateAsync(() => sealCadesT(document, pki.seal, objectStamper), T, 5);

  // The limit: hash the document, sign the signed attributes, hash the signature (imprint),
  // hash the TSTInfo, sign the token's signed attributes — nothing else.
  const sealKey = KeyObject.from(pki.seal.privateKey);
  const tsaKey = KeyObject.from(pki.tsa.privateKey);
  const attrs = randomBytes(280);
  const tokenAttrs = randomBytes(230);
  const tstInfo = randomBytes(100);
  const ecdsa = algorithm.startsWith('ECDSA');
  const { fast: fastRate, limit: limitRate } = bestOfInterleaved(
    {
      fast: () => fast.sealSync(document),
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
  const { fast: fastStatement } = bestOfInterleaved({ fast: () => fast.sealSync(statement) }, T, 3);
  let poolRate: Rate | undefined;
  let poolStatement: Rate | undefined;
  const workerFile = SealingPool.workerFile() ?? path.resolve(import.meta.dirname, '../src/crypto/workers/sealWorker.js');
  const tsaConfig = nativeTsa.nativeConfig();
  if (tsaConfig && (await fs.stat(workerFile).catch(() => undefined))) {
    const pool = new SealingPool(2, { seal: native, tsa: tsaConfig }, workerFile);
    poolRate = await rateAsync(() => pool.seal(document, new Date()), T, 50, 16);
    poolStatement = await rateAsync(() => pool.seal(statement, new Date()), T, 50, 16);
    await pool.close();
  }

  const opensslRate = await opensslLoop(files, document);
  await fs.rm(files.dir, { recursive: true, force: true });
  return [
    algorithm,
    showRate(fastRate),
    showRate(objectRate),
    showRate(opensslRate),
    showRate(limitRate),
    `${fmt(fastRate.cpu / objectRate.cpu, 1)}×`,
    `${fmt((100 * fastRate.cpu) / limitRate.cpu)}%`,
    poolRate === undefined ? 'n/a (no dist/)' : showRate(poolRate),
    showRate(fastStatement),
    poolStatement === undefined ? 'n/a (no dist/)' : showRate(poolStatement),
  ];
}

async function main(): Promise<void> {
  console.log(`bench:seal — CAdES-T proofs/s, ${DOCUMENT_BYTES / 1024} KB document, ${T} s per figure; ${machine()}`);
  console.log('each figure: proofs per second of wall-clock time (proofs per CPU-second: the per-core figure, steady on a shared machine); ratios from CPU-seconds');
  const rows: Array<Array<string | number>> = [
    ['algorithm', 'fast path (1 thread)', 'object path (baseline)', `OpenSSL CLI loop (${OPENSSL_PROOFS})`, 'hash+sign limit', 'fast/object', 'fast/limit', 'pool, 2 threads', '2 KB: fast, 1 thread', '2 KB: pool, 2 threads'],
  ];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) rows.push(await bench(algorithm));
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
