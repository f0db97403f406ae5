/**
 * A first measurement of RFC 4998 evidence records (src/crypto/EvidenceRecord.ts), in process,
 * with the built-in TSA: proofs entered into trees per second (tree, one token per tree, a
 * record per proof), records verified per second (tree path and the token), and TSA tokens per
 * 100,000 proofs. Not yet `npm run bench:records` (issue 13): run it with
 *   npx tsx scripts/bench-records.ts [proofs] [proofs per tree]
 */
import { createHash, randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createDevPki, createEvidenceRecords, LocalTimeStamper, TimeStampAuthority, verifyEvidenceRecord, type HashName, type KeyAlgorithm } from '../src/crypto/index.js';
import { cpuSeconds, POLICY, type Rate } from './bench-lib.js';

export interface RecordsMeasurement {
  proofs: number;
  perTree: number;
  trees: number;
  /** TSA tokens asked for, scaled to 100,000 proofs. */
  tokensPer100k: number;
  entered: Rate;
  verified: Rate;
  /** Records that did not verify (must be 0). */
  invalid: number;
}

export async function measureEvidenceRecords(options: { proofs: number; perTree: number; verify?: number; algorithm?: KeyAlgorithm }): Promise<RecordsMeasurement> {
  const { proofs, perTree } = options;
  if (!(Number.isInteger(proofs) && proofs > 0 && Number.isInteger(perTree) && perTree > 0)) throw new RangeError('proofs and perTree must be positive integers');
  const pki = await createDevPki(options.algorithm ?? 'ECDSA-P256');
  let tokens = 0;
  const tsa = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }));
  const stamper = {
    timestamp: (data: Uint8Array) => tsa.timestamp(data),
    timestampDigest: (hash: Uint8Array, algorithm?: HashName) => {
      tokens++;
      return tsa.timestampDigest(hash, algorithm);
    },
  };
  const leaves = Array.from({ length: proofs }, () => new Uint8Array(createHash('sha256').update(randomBytes(32)).digest()));

  const records: Uint8Array[] = [];
  let wall = performance.now();
  let cpu = cpuSeconds();
  for (let i = 0; i < proofs; i += perTree) records.push(...(await createEvidenceRecords(leaves.slice(i, i + perTree), stamper)).records);
  const entered = { wall: proofs / ((performance.now() - wall) / 1000), cpu: proofs / Math.max(cpuSeconds() - cpu, 1e-6) };

  const toVerify = Math.min(options.verify ?? proofs, proofs);
  let invalid = 0;
  wall = performance.now();
  cpu = cpuSeconds();
  for (let i = 0; i < toVerify; i++) {
    const report = await verifyEvidenceRecord(records[i]!, { digest: leaves[i]! }, { trustAnchors: [pki.root.certificate] });
    if (!report.valid) invalid++;
  }
  const verified = { wall: toVerify / ((performance.now() - wall) / 1000), cpu: toVerify / Math.max(cpuSeconds() - cpu, 1e-6) };
  const trees = Math.ceil(proofs / perTree);
  return { proofs, perTree, trees, tokensPer100k: (tokens * 100_000) / proofs, entered, verified, invalid };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const proofs = Number(process.argv[2] ?? 10_000);
  const perTree = Number(process.argv[3] ?? 1_000);
  const m = await measureEvidenceRecords({ proofs, perTree, verify: Math.min(proofs, 2_000) });
  console.log(`${m.proofs} proofs in ${m.trees} trees of up to ${m.perTree}`);
  console.log(`entered: ${m.entered.wall.toFixed(0)} proofs/s (${m.entered.cpu.toFixed(0)} per CPU-second)`);
  console.log(`verified: ${m.verified.wall.toFixed(0)} records/s (${m.verified.cpu.toFixed(0)} per CPU-second), ${m.invalid} invalid`);
  console.log(`TSA tokens per 100,000 proofs: ${m.tokensPer100k}`);
}
