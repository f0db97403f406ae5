/**
 * Makes the test vectors of the auditor CLI under test/fixtures/verify/ (see its README.md):
 * proofs sealed by the service's own sealing code (src/registered-mail/sealing.ts over statements
 * from src/domain/EvidenceStatement.ts, time-stamped by the built-in TSA), tampered copies of
 * them, and a few made by the OpenSSL command line, each named after what made it. Writes
 * expected.json, which the tests iterate: file, extra CLI arguments, indication, sub-indication.
 *
 *   npx tsx scripts/make-verify-fixtures.ts [--out test/fixtures/verify]
 *
 * Every run makes new keys, so the committed files change as a whole; the private keys live
 * in a temporary folder and are deleted (only the roots are kept). The certificates are valid
 * from an hour before the run for 10 (leaves) and 20 (roots) years; the proofs' chains are
 * validated at their time-stamp's genTime, so the vectors stay valid after that too.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../src/config.js';
import { CadesTWriter, createDevPki, derToPem, extractTimeStamp, LocalTimeStamper, signerFor, TimeStampAuthority, type DevPki, type KeyAlgorithm } from '../src/crypto/index.js';
import { buildStatement, canonicalStatementBytes, type EvidenceType } from '../src/domain/EvidenceStatement.js';
import { Sealer } from '../src/registered-mail/sealing.js';
import { withSignatureTimeStamp } from './proof-surgery.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: 'test/fixtures/verify' } } });
const OUT = path.resolve(values.out!);
const KEYS = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-fixtures-keys-'));

interface Expected {
  file: string;
  /** CLI arguments besides the proof (paths relative to the fixtures folder). */
  args: string[];
  indication: 'TOTAL_PASSED' | 'TOTAL_FAILED' | 'INDETERMINATE';
  subIndication?: string;
  /** The line that must fail with that sub-indication. */
  check?: string;
  madeBy: string;
}
const expected: Expected[] = [];
const expect = (e: Expected) => expected.push(e);

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const write = (name: string, data: Uint8Array | string) => fs.writeFileSync(path.join(OUT, name), data);

const LETTER = new TextEncoder().encode('%PDF-1.4\n% Registered letter: decision on your file 2026-0001\n%%EOF\n');
const ANNEX = new TextEncoder().encode('Annex: how to appeal, in four languages.\n');

function statement(type: EvidenceType, opts: { previous?: Uint8Array; eventTime?: Date; subject?: string } = {}) {
  const submission = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  return buildStatement({
    evidenceId: `0f0e0d0c-0b0a-4009-8807-${type === 'SubmissionAcceptance' ? '060504030201' : '060504030202'}`,
    type,
    eventTime: opts.eventTime ?? new Date(submission.getTime() + 1000),
    policyOid: DEFAULT_EVIDENCE_POLICY_OID,
    issuerName: 'Registered Mail Trust Service (test vectors)',
    sender: { id: 'sender-fixture', name: 'Fixture Institution', reference: 'REF-2026-0001' },
    recipient: { type: 'citizen', id: '85073003328' },
    submissionTime: submission,
    messageId: '7b1e4c2a-5d3f-4e6a-9b8c-0d1e2f3a4b5c',
    subject: { nl: opts.subject ?? 'Uw beslissing', fr: 'Votre décision' },
    documents: [
      { partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: LETTER.length, isMain: true, sha256: sha256(LETTER) },
      { partName: 'annex', fileName: 'annex.txt', mediaType: 'text/plain', size: ANNEX.length, isMain: false, sha256: sha256(ANNEX) },
    ],
    previousEvidenceSha256: opts.previous ? sha256(opts.previous) : null,
  });
}

function sealerFor(pki: DevPki, tsaPki: DevPki = pki): Sealer {
  const tsa = new TimeStampAuthority(tsaPki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1 });
  return new Sealer(pki.seal, new LocalTimeStamper(tsa));
}

/** Byte offset of `needle` in `hay`, which must occur exactly once. */
function indexOnce(hay: Uint8Array, needle: Uint8Array, what: string): number {
  const b = Buffer.from(hay);
  const i = b.indexOf(Buffer.from(needle));
  if (i < 0 || b.indexOf(Buffer.from(needle), i + 1) >= 0) throw new Error(`${what}: not found exactly once`);
  return i;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  for (const f of fs.readdirSync(OUT)) if (/\.(p7s|pem|pdf|txt|json|bin)$/.test(f) && f !== 'README.md') fs.rmSync(path.join(OUT, f));

  const pki = await createDevPki('ECDSA-P256');
  write('root.pem', derToPem(pki.root.certificate, 'CERTIFICATE'));
  write('letter.pdf', LETTER);
  write('annex.txt', ANNEX);
  const altered = new Uint8Array(LETTER);
  altered[20] ^= 0x20;
  write('letter-altered.pdf', altered);
  const sealer = sealerFor(pki);
  // Whole seconds ending in 5, so that the SIG_CRYPTO_FAILURE vector can move it to …4.
  const now = Math.floor(Date.now() / 10_000) * 10_000 - 5_000;

  // TOTAL_PASSED — a SubmissionAcceptance and the ContentConsignment chained to it.
  const accepted = await sealer.seal(statement('SubmissionAcceptance'), new Date(now));
  write('service-passed.p7s', accepted.der);
  write('service-passed.statement.json', accepted.statementText);
  expect({ file: 'service-passed.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_PASSED', madeBy: 'Sealer.seal (service sealing code), ECDSA P-256' });
  expect({ file: 'service-passed.p7s', args: ['--trust', 'root.pem', '--document', 'letter.pdf', '--document', 'annex.txt'], indication: 'TOTAL_PASSED', madeBy: 'as above, with both documents' });
  expect({ file: 'service-passed.p7s', args: ['--trust', 'root.pem', '--document', 'letter-altered.pdf'], indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE', check: 'DOCUMENT_DIGEST', madeBy: 'letter.pdf with one byte changed' });
  const consigned = await sealer.seal(statement('ContentConsignment', { previous: accepted.der }), new Date(now));
  write('service-passed-consignment.p7s', consigned.der);
  expect({ file: 'service-passed-consignment.p7s', args: ['--trust', 'root.pem', '--document', 'letter.pdf'], indication: 'TOTAL_PASSED', madeBy: 'Sealer.seal, ContentConsignment chained to service-passed.p7s' });

  // TOTAL_PASSED for the other key algorithms, each with its root.
  for (const [algorithm, label] of [['ECDSA-P384', 'p384'], ['RSA-2048', 'rsa2048'], ['RSA-3072', 'rsa3072']] as Array<[KeyAlgorithm, string]>) {
    const other = await createDevPki(algorithm);
    write(`root-${label}.pem`, derToPem(other.root.certificate, 'CERTIFICATE'));
    const sealed = await sealerFor(other).seal(statement('SubmissionAcceptance'), new Date(now));
    write(`service-passed-${label}.p7s`, sealed.der);
    expect({ file: `service-passed-${label}.p7s`, args: ['--trust', `root-${label}.pem`, '--document', 'letter.pdf'], indication: 'TOTAL_PASSED', madeBy: `Sealer.seal, ${algorithm}` });
  }

  // INDETERMINATE / NO_CERTIFICATE_CHAIN_FOUND — a good proof against an unrelated root.
  const unrelated = await createDevPki('ECDSA-P256');
  write('other-root.pem', derToPem(unrelated.root.certificate, 'CERTIFICATE'));
  expect({ file: 'service-passed.p7s', args: ['--trust', 'other-root.pem'], indication: 'INDETERMINATE', subIndication: 'NO_CERTIFICATE_CHAIN_FOUND', check: 'CERTIFICATE_CHAIN', madeBy: 'service-passed.p7s against an unrelated dev root' });
  // INDETERMINATE / OUT_OF_BOUNDS_NO_POE — validated at a time the certificates were not valid.
  expect({ file: 'service-passed.p7s', args: ['--trust', 'root.pem', '--at', '2001-01-01T00:00:00Z'], indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE', check: 'CERTIFICATE_CHAIN', madeBy: 'service-passed.p7s with --at before the certificates' });

  // INDETERMINATE / OUT_OF_BOUNDS_NO_POE — a sealing certificate that had expired before the time-stamp.
  const expiredPki = await createDevPki('ECDSA-P256', { now: new Date(now - 11 * 366 * 86_400_000) });
  write('expired-root.pem', derToPem(expiredPki.root.certificate, 'CERTIFICATE'));
  const expired = await sealerFor(expiredPki, pki).seal(statement('SubmissionAcceptance'), new Date(now));
  write('service-expired-signer.p7s', expired.der);
  expect({ file: 'service-expired-signer.p7s', args: ['--trust', 'root.pem', '--trust', 'expired-root.pem'], indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE', check: 'CERTIFICATE_CHAIN', madeBy: 'Sealer.seal with a sealing certificate issued 11 years earlier for 10 years' });

  // INDETERMINATE / TIMESTAMP_ORDER_FAILURE — the claimed signing-time is an hour after the time-stamp.
  const early = await sealer.seal(statement('SubmissionAcceptance'), new Date(now + 3600_000));
  write('service-timestamp-before-signing-time.p7s', early.der);
  expect({ file: 'service-timestamp-before-signing-time.p7s', args: ['--trust', 'root.pem'], indication: 'INDETERMINATE', subIndication: 'TIMESTAMP_ORDER_FAILURE', check: 'TIMESTAMP_ORDER', madeBy: 'Sealer.seal claiming a signing-time an hour ahead of the TSA' });

  // TOTAL_FAILED / HASH_FAILURE — one character of the enveloped statement changed.
  const hashFail = new Uint8Array(accepted.der);
  const at = indexOnce(hashFail, new TextEncoder().encode('Uw beslissing'), 'subject');
  hashFail[at + 3] = 'B'.charCodeAt(0);
  write('service-tampered-statement.p7s', hashFail);
  expect({ file: 'service-tampered-statement.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE', check: 'MESSAGE_DIGEST', madeBy: 'service-passed.p7s with "Uw beslissing" → "Uw Beslissing" in the eContent' });

  // TOTAL_FAILED / SIG_CRYPTO_FAILURE — the signed signing-time moved one second earlier.
  const sigFail = new Uint8Array(accepted.der);
  const utc = new Date(now).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const st = indexOnce(sigFail, new TextEncoder().encode(utc), 'signing-time');
  sigFail[st + 11] = '4'.charCodeAt(0);
  write('service-tampered-signing-time.p7s', sigFail);
  expect({ file: 'service-tampered-signing-time.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'SIG_CRYPTO_FAILURE', check: 'SIGNATURE', madeBy: 'service-passed.p7s with its signed signing-time one second earlier' });

  // TOTAL_FAILED / TIMESTAMP_IMPRINT_MISMATCH — another proof's signature time-stamp.
  const swapped = withSignatureTimeStamp(accepted.der, extractTimeStamp(consigned.der).token);
  write('service-swapped-timestamp.p7s', swapped);
  expect({ file: 'service-swapped-timestamp.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'TIMESTAMP_IMPRINT_MISMATCH', check: 'TIMESTAMP_IMPRINT', madeBy: "service-passed.p7s carrying service-passed-consignment.p7s's time-stamp token" });

  // TOTAL_FAILED / FORMAT_FAILURE — a well-signed proof of something that is not an evidence statement.
  const notStatement = { ...statement('SubmissionAcceptance'), Version: '2', Documents: 'none' };
  const badStatement = await new CadesTWriter(signerFor(pki.seal)).seal(new TextEncoder().encode(JSON.stringify(notStatement)), new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID })), new Date(now));
  write('service-not-a-statement.p7s', badStatement);
  expect({ file: 'service-not-a-statement.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'STATEMENT_SCHEMA', madeBy: 'the proof writer (CadesTWriter) over JSON with Version "2" and no Documents array' });

  // TOTAL_FAILED / FORMAT_FAILURE — malformed files.
  write('service-truncated.p7s', accepted.der.subarray(0, Math.floor(accepted.der.length / 2)));
  expect({ file: 'service-truncated.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'DER_ENCODING', madeBy: 'the first half of service-passed.p7s' });
  let nested = Uint8Array.of(0x05, 0x00);
  for (let i = 0; i < 5000; i++) {
    const n = nested.length;
    const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
    const next = new Uint8Array(1 + len.length + n);
    next.set([0x30, ...len]);
    next.set(nested, 1 + len.length);
    nested = next;
  }
  write('deeply-nested-5000.p7s', nested);
  expect({ file: 'deeply-nested-5000.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'DER_ENCODING', madeBy: '5000 nested DER SEQUENCEs around a NULL' });

  // OpenSSL-made vectors: the dev sealing key, written to a temporary folder for openssl.
  const key = path.join(KEYS, 'seal.key');
  const cert = path.join(KEYS, 'seal.pem');
  const root = path.join(OUT, 'root.pem');
  fs.writeFileSync(key, derToPem(pki.sealKeyPkcs8, 'PRIVATE KEY'), { mode: 0o600 });
  fs.writeFileSync(cert, derToPem(pki.seal.certificate, 'CERTIFICATE'));
  const content = path.join(KEYS, 'statement.json');
  fs.writeFileSync(content, canonicalStatementBytes(statement('SubmissionAcceptance')));
  const o = (name: string) => path.join(OUT, name);
  const signBase = ['cms', '-sign', '-binary', '-in', content, '-signer', cert, '-inkey', key, '-certfile', root, '-md', 'sha256', '-nosmimecap'];

  openssl([...signBase, '-cades', '-nodetach', '-outform', 'DER', '-out', o('openssl-cms-sign-cades-nodetach.p7s')]);
  expect({ file: 'openssl-cms-sign-cades-nodetach.p7s', args: ['--trust', 'root.pem'], indication: 'INDETERMINATE', subIndication: 'TIMESTAMP_MISSING', check: 'TIMESTAMP_PRESENT', madeBy: 'openssl cms -sign -binary -cades -nodetach -md sha256 -nosmimecap -outform DER (a CAdES-B-B: no time-stamp)' });

  openssl([...signBase, '-cades', '-nodetach', '-nocerts', '-outform', 'DER', '-out', o('openssl-cms-sign-cades-nodetach-nocerts.p7s')]);
  expect({ file: 'openssl-cms-sign-cades-nodetach-nocerts.p7s', args: ['--trust', 'root.pem'], indication: 'INDETERMINATE', subIndication: 'NO_SIGNING_CERTIFICATE_FOUND', check: 'SIGNING_CERTIFICATE', madeBy: 'openssl cms -sign -binary -cades -nodetach -nocerts -md sha256 -nosmimecap -outform DER' });

  openssl([...signBase, '-cades', '-outform', 'DER', '-out', o('openssl-cms-sign-cades-detached.p7s')]);
  expect({ file: 'openssl-cms-sign-cades-detached.p7s', args: ['--trust', 'root.pem'], indication: 'INDETERMINATE', subIndication: 'SIGNED_DATA_NOT_FOUND', check: 'CMS_STRUCTURE', madeBy: 'openssl cms -sign -binary -cades -md sha256 -nosmimecap -outform DER (detached content)' });

  openssl([...signBase, '-cades', '-nodetach', '-stream', '-outform', 'DER', '-out', o('openssl-cms-sign-cades-nodetach-stream-ber.p7s')]);
  expect({ file: 'openssl-cms-sign-cades-nodetach-stream-ber.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'DER_ENCODING', madeBy: 'openssl cms -sign … -nodetach -stream -outform DER (indefinite-length BER)' });

  openssl(['cms', '-cmsout', '-inform', 'DER', '-in', o('service-passed.p7s'), '-outform', 'PEM', '-out', o('openssl-cms-cmsout-outform-pem.p7s')]);
  expect({ file: 'openssl-cms-cmsout-outform-pem.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'DER_ENCODING', madeBy: 'openssl cms -cmsout -inform DER -in service-passed.p7s -outform PEM (PEM where DER is expected)' });

  openssl(['rand', '-out', o('openssl-rand-4096.p7s'), '4096']);
  expect({ file: 'openssl-rand-4096.p7s', args: ['--trust', 'root.pem'], indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE', check: 'DER_ENCODING', madeBy: 'openssl rand -out openssl-rand-4096.p7s 4096' });

  write('expected.json', JSON.stringify(expected, null, 2) + '\n');
  // The README's table is expected.json for people.
  const readme = path.join(OUT, 'README.md');
  if (fs.existsSync(readme)) {
    const text = fs.readFileSync(readme, 'utf8');
    const head = text.slice(0, text.indexOf('| file | arguments |'));
    const rows = expected.map((x) => `| \`${x.file}\` | \`${x.args.join(' ')}\` | ${x.indication}${x.subIndication ? ` / ${x.subIndication}` : ''} | ${x.check ?? '—'} | ${x.madeBy.replace(/\|/g, '\\|')} |`);
    fs.writeFileSync(readme, `${head}| file | arguments | indication / sub-indication | failing line | made by |\n| --- | --- | --- | --- | --- |\n${rows.join('\n')}\n`);
  }
  fs.rmSync(KEYS, { recursive: true, force: true });
  console.log(`wrote ${expected.length} vectors to ${path.relative(process.cwd(), OUT)}`);
}

main().catch((err) => {
  fs.rmSync(KEYS, { recursive: true, force: true });
  console.error(err);
  process.exit(1);
});
