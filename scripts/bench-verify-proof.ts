/**
 * bench:verify-proof — the cost of verifying ONE proof in one thread (what batch
 * verification, `bench:verify`, multiplies over the cores): verifyCadesT as it now runs
 * (proof parsed once, native signature checks, certification paths reused while inside their
 * validity window) against the same function with WebCrypto signatures and no path cache (the
 * baseline: how every proof was checked before), and against one OpenSSL process pair per
 * proof (`openssl cms -verify -cades` + `openssl ts -verify`), measured in the same run, for
 * ECDSA P-256 and RSA-2048 proofs of a 2 KB statement and of a 100 KB document.
 *
 *   npm run bench:verify-proof
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CadesTWriter, TimeStampAuthority, extractTimeStamp, signerFor, verifyCadesT, type KeyAlgorithm } from '../src/crypto/index.js';
import { fmt, machine, pkiFiles, POLICY, procCpuSeconds, rateAsync, run, seconds, showRate, table } from './bench-lib.js';

const T = seconds(3);
const OPENSSL_PROOFS = Number(process.env.OPENSSL_PROOFS ?? 30);

async function bench(algorithm: KeyAlgorithm, size: number): Promise<Array<string | number>> {
  const files = await pkiFiles(algorithm);
  const { pki } = files;
  const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
  const sealer = new CadesTWriter(signerFor(pki.seal), tsa.tokenTemplate);
  const proofs = Array.from({ length: 100 }, () => sealer.sealSync(new Uint8Array(randomBytes(size)), new Date(Date.now() - 1000)));
  const anchors = [pki.root.certificate];
  let i = 0;
  const once = (options: Parameters<typeof verifyCadesT>[1]) => async () => {
    const report = await verifyCadesT(proofs[i++ % proofs.length]!, options);
    if (report.indication !== 'TOTAL_PASSED') throw new Error(`${algorithm}: ${JSON.stringify(report.checks.filter((c) => !c.passed))}`);
  };
  const fast = await rateAsync(once({ trustAnchors: anchors }), T, 50);
  const baseline = await rateAsync(once({ trustAnchors: anchors, crypto: globalThis.crypto, pathCache: false }), T, 5);

  const f = (name: string) => path.join(files.dir, name);
  const opensslOnce = async (k: number) => {
    const proof = proofs[k % proofs.length]!;
    const { token, signatureValue } = extractTimeStamp(proof);
    await fs.writeFile(f('p.der'), proof);
    await fs.writeFile(f('t.der'), token);
    await fs.writeFile(f('s.bin'), signatureValue);
    await run('openssl', ['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', f('p.der'), '-CAfile', files.root, '-out', f('c.bin')]);
    await run('openssl', ['ts', '-verify', '-token_in', '-in', f('t.der'), '-data', f('s.bin'), '-CAfile', files.root, '-untrusted', files.tsaCert]);
  };
  await opensslOnce(0);
  const started = performance.now();
  const cpu0 = await procCpuSeconds('self', true);
  for (let k = 0; k < OPENSSL_PROOFS; k++) await opensslOnce(k);
  const openssl = { wall: (OPENSSL_PROOFS * 1000) / (performance.now() - started), cpu: OPENSSL_PROOFS / Math.max(0.01, (await procCpuSeconds('self', true)) - cpu0) };
  await fs.rm(files.dir, { recursive: true, force: true });
  return [`${algorithm}, ${size >= 1024 ? `${size / 1024} KB` : `${size} B`}`, showRate(fast), showRate(baseline), showRate(openssl), `${fmt(fast.cpu / baseline.cpu, 1)}×`];
}

async function main(): Promise<void> {
  console.log(`bench:verify-proof — verifyCadesT, one thread, ${T} s per figure; ${machine()}`);
  console.log('each figure: proofs verified per second of wall-clock time (per CPU-second); the ratio from CPU-seconds');
  const rows: Array<Array<string | number>> = [['proofs', 'verifyCadesT now', 'baseline (WebCrypto, no path cache)', `OpenSSL process pair (${OPENSSL_PROOFS})`, 'now/baseline']];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) for (const size of [2048, 100 * 1024]) rows.push(await bench(algorithm, size));
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
