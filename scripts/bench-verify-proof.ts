/**
 * bench:verify-proof — the cost of verifying ONE proof in one thread (what batch
 * verification, `bench:verify`, multiplies over the cores): verifyCadesT as it now runs
 * (proof parsed once, native signature checks, certification paths reused while inside their
 * validity window) against the same function with WebCrypto signatures and no path cache (the
 * baseline: how every proof was checked before), and against one OpenSSL process pair per
 * proof (`openssl cms -verify -cades` + `openssl ts -verify`, one pair after the other in a
 * shell loop timed from outside; the token and signature value are extracted to files
 * beforehand, not timed), measured in the same run, for ECDSA P-256 and RSA-2048 proofs of a
 * 2 KB statement and of a 100 KB document. The three are measured in turns in each of
 * BENCH_ROUNDS rounds (default 3), BENCH_SECONDS (default 1) per figure per round; medians
 * and ranges are printed.
 *
 *   npm run bench:verify-proof
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CadesTWriter, TimeStampAuthority, extractTimeStamp, signerFor, verifyCadesT, type KeyAlgorithm } from '../src/crypto/index.js';
import { fmt, interleaved, machine, pkiFiles, POLICY, rateAsync, rounds, seconds, settle, showRates, spread, table, timeShell, type Rate } from './bench-lib.js';

const T = seconds(1);
const R = rounds();
const OPENSSL_PROOFS = Number(process.env.OPENSSL_PROOFS ?? 30);
const PROOFS = 100;

async function bench(algorithm: KeyAlgorithm, size: number): Promise<Array<string | number>> {
  const files = await pkiFiles(algorithm);
  const { pki } = files;
  const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
  const sealer = new CadesTWriter(signerFor(pki.seal), tsa.tokenTemplate);
  const proofs = Array.from({ length: PROOFS }, () => sealer.sealSync(new Uint8Array(randomBytes(size)), new Date(Date.now() - 1000)));
  const anchors = [pki.root.certificate];
  let i = 0;
  const once = (options: Parameters<typeof verifyCadesT>[1]) => async () => {
    const report = await verifyCadesT(proofs[i++ % proofs.length]!, options);
    if (report.indication !== 'TOTAL_PASSED') throw new Error(`${algorithm}: ${JSON.stringify(report.checks.filter((c) => !c.passed))}`);
  };
  // the files OpenSSL reads, written once
  const f = (name: string) => path.join(files.dir, name);
  for (const [k, proof] of proofs.entries()) {
    const { token, signatureValue } = extractTimeStamp(proof);
    await fs.writeFile(f(`p${k}.der`), proof);
    await fs.writeFile(f(`t${k}.der`), token);
    await fs.writeFile(f(`s${k}.bin`), signatureValue);
  }
  const script =
    `i=0; while [ $i -lt ${OPENSSL_PROOFS} ]; do k=$((i % ${PROOFS})); ` +
    `openssl cms -verify -cades -binary -inform DER -in p$k.der -CAfile ${files.root} -out /dev/null 2>/dev/null && ` +
    `openssl ts -verify -token_in -in t$k.der -data s$k.bin -CAfile ${files.root} -untrusted ${files.tsaCert} >/dev/null 2>&1 || exit 1; i=$((i+1)); done`;
  // the first figure of the run would otherwise pay for the JIT and the certificate cache:
  // every proof verified a few times before the first round
  for (let k = 0; k < 5 * PROOFS; k++) await once({ trustAnchors: anchors })();
  const figures = await interleaved<'fast' | 'baseline' | 'openssl', Rate>(R, {
    fast: () => rateAsync(once({ trustAnchors: anchors }), T, 50),
    baseline: () => rateAsync(once({ trustAnchors: anchors, crypto: globalThis.crypto, pathCache: false }), T, 5),
    openssl: async () => {
      const { seconds: wall, cpu } = await timeShell(script, { cwd: files.dir });
      return { wall: OPENSSL_PROOFS / wall, cpu: OPENSSL_PROOFS / cpu };
    },
  });
  await fs.rm(files.dir, { recursive: true, force: true });
  const cpu = (rs: Rate[]) => spread(rs.map((r) => r.cpu)).median;
  return [
    `${algorithm}, ${size >= 1024 ? `${size / 1024} KB` : `${size} B`}`,
    showRates(figures.fast),
    showRates(figures.baseline),
    showRates(figures.openssl),
    `${fmt(cpu(figures.fast) / cpu(figures.baseline), 1)}×`,
    `${fmt(cpu(figures.fast) / cpu(figures.openssl), 1)}×`,
  ];
}

async function main(): Promise<void> {
  await settle();
  console.log(`bench:verify-proof — verifyCadesT, one thread, ${R} interleaved rounds of ${T} s per figure; ${machine()}`);
  console.log('each figure: proofs verified per second of wall-clock time, median over rounds (range) [per CPU-second]; ratios from the CPU-second medians');
  const rows: Array<Array<string | number>> = [['proofs', 'verifyCadesT now', 'baseline (WebCrypto, no path cache)', `OpenSSL pair per proof, shell loop (${OPENSSL_PROOFS})`, 'now/baseline', 'now/OpenSSL']];
  for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) for (const size of [2048, 100 * 1024]) rows.push(await bench(algorithm, size));
  table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
