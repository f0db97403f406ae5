/**
 * npm run bench:receipt — PDF receipts per second in one thread (src/registered-mail/receipts.ts):
 * a proof of handover with two documents (scripts/sample-evidence.ts), its receipt in French,
 * signed PAdES B-T with the sealing key and the built-in TSA in this process. Beside it,
 * measured in the same rounds, in turns (A B C A B C …, `BENCH_ROUNDS`, default 3, of
 * `BENCH_SECONDS`, default 3, each), each after its own warm-up:
 *   B the same page without its signature (pdf-lib: layout, subset fonts, the proof attached,
 *     the file written): what the PDF library costs, and so what the signature adds;
 *   C sealing the proof itself (CAdES-T, the same key and TSA): what a receipt costs next to
 *     the evidence it tells.
 * Each figure: median (range) per second of wall-clock time, and [per CPU-second] of this
 * process. Waits for the load to settle first and prints the load it starts at.
 */
import os from 'node:os';
import { createDevPki, LocalTimeStamper, TimeStampAuthority, type KeyAlgorithm } from '../src/crypto/index.js';
import { ReceiptService } from '../src/registered-mail/receipts.js';
import { buildReceipt } from '../src/registered-mail/receipts/layout.js';
import { Sealer } from '../src/registered-mail/sealing.js';
import { fmt, interleaved, machine, POLICY, rateAsync, rounds, seconds, settle, showRates, spread, table, type Rate } from './bench-lib.js';
import { sampleHandover, sealedRecord } from './sample-evidence.js';

const perRound = seconds(3);
const n = rounds(3);
await settle();
console.log(`bench:receipt — ${machine()}`);
console.log(`${n} rounds of ${fmt(perRound, 1)} s per figure, in turns; median (range) per s [per CPU-s]\n`);

const rows: string[][] = [['', 'receipt, signed (A)', 'page unsigned (B)', 'proof sealed (C)', 'C ÷ A']];
for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as KeyAlgorithm[]) {
  const pki = await createDevPki(algorithm);
  const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 })));
  const statement = sampleHandover(POLICY);
  const record = await sealedRecord(sealer, statement);
  const receipts = new ReceiptService(sealer);
  const signed = () => receipts.receipt(record, 'fr');
  const unsigned = async () => (await buildReceipt({ statement, proof: record.der, proofSha256: record.sha256, timeStampedAt: new Date(), language: 'fr' })).save({ useObjectStreams: false });
  const proof = () => sealer.seal(statement, new Date());
  const results: Record<'signed' | 'unsigned' | 'proof', Rate[]> = await interleaved(n, {
    signed: () => rateAsync(signed, perRound, 10),
    unsigned: () => rateAsync(unsigned, perRound, 10),
    proof: () => rateAsync(proof, perRound, 200),
  });
  const ratio = spread(results.proof.map((r) => r.wall)).median / spread(results.signed.map((r) => r.wall)).median;
  rows.push([algorithm, showRates(results.signed), showRates(results.unsigned), showRates(results.proof), `${fmt(ratio)}×`]);
  await sealer.close();
}
table(rows);
console.log(`\nload average at end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
