/**
 * npm run receipt:samples [-- --out DIR] — a sample receipt in each language, made by the
 * service's own code (a proof sealed with a fresh development PKI and the built-in TSA, then
 * its receipt), written as PDF and as a PNG of its first page (`pdftoppm`, poppler-utils):
 * the pictures in the README come from here (docs/images/receipt-<lang>.png).
 */
import { execFileSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { createDevPki, LocalTimeStamper, TimeStampAuthority } from '../src/crypto/index.js';
import { LANGUAGES } from '../src/domain/EvidenceStatement.js';
import { ReceiptService } from '../src/registered-mail/receipts.js';
import { Sealer } from '../src/registered-mail/sealing.js';
import { sampleHandover, sealedRecord } from './sample-evidence.js';

const program = new Command('receipt-samples')
  .description("write a sample receipt in each language, as PDF page pictures (PNG, with poppler's pdftoppm)")
  .option('--out <dir>', 'where to write receipt-<lang>.png', 'docs/images')
  .exitOverride()
  .showHelpAfterError();
try {
  program.parse();
} catch (err) {
  process.exit(err instanceof CommanderError && err.exitCode === 0 ? 0 : 3);
}
const out = path.resolve(program.opts<{ out: string }>().out);
fs.mkdirSync(out, { recursive: true });
const policy = '1.3.6.1.4.1.99999.1.1';
const pki = await createDevPki('ECDSA-P256');
const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: policy, accuracyMs: 1 })));
const record = await sealedRecord(sealer, sampleHandover(policy));
const receipts = new ReceiptService(sealer);
for (const language of LANGUAGES) {
  const { pdf } = await receipts.receipt(record, language);
  const file = path.join(out, `receipt-${language}.pdf`);
  fs.writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-png', '-r', '60', '-f', '1', '-l', '1', '-singlefile', file, path.join(out, `receipt-${language}`)]);
  fs.rmSync(file);
  console.log(path.join(out, `receipt-${language}.png`));
}
await sealer.close();
