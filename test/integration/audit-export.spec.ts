/**
 * The auditor's round trip, end to end with the real service and database: messages from two
 * senders driven to DEPOSITED, checkpoints of the event log, `export` of one sender's period
 * (as a real process, through the config module), then `verify --dir` and `verify-log` on the
 * bundle as it is — and each tampering of the bundle (a proof, a statement copy, a document,
 * an event row, a redacted row, a rewritten chain, a dropped checkpoint) caught with the
 * right sub-indication. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { eventHash } from '../../src/domain/EventChain.js';
import { jsonLines, runCli } from '../helpers/cli.js';
import { onPostgres } from '../helpers/database.js';
import { openssl } from '../helpers/openssl.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

const STACK = /^\s+at .+[(:]\d+/m;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`audit export → verify --dir / verify-log (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(240_000);
  let svc: TestService;
  let work: string;
  let bundle: string;
  let a: { id: string; apiKey: string };
  let b: { id: string; apiKey: string };
  const aMessages: string[] = [];
  const bMessages: string[] = [];
  let period: { from: string; to: string };
  const letter = pdfBytes(30_000, 7);
  const annex = new TextEncoder().encode('annex of the audit test\n');

  async function send(sender: { apiKey: string }, parts: 'one' | 'two'): Promise<string> {
    const res =
      parts === 'one'
        ? await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: letter }])
        : await submit(svc, sender.apiKey, metadata({}, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'annex' }]), [
            { name: 'main', content: letter },
            { name: 'annex', content: annex, type: 'text/plain', fileName: 'annex.txt' },
          ]);
    expect(res.status).to.equal(201);
    const { id } = await res.json();
    await waitForMessage(svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED');
    return id;
  }

  /** Waits until the log's head stops moving (asynchronous evidence such as notifications), then time-stamps it. */
  async function settleAndCheckpoint(): Promise<void> {
    let last = await svc.rt.store.events.head();
    for (let i = 0; i < 50; i++) {
      await sleep(150);
      const now = await svc.rt.store.events.head();
      if (now?.seq === last?.seq) break;
      last = now;
    }
    await svc.rt.maintenance.checkpoint();
  }

  const copyBundle = (name: string) => {
    const to = path.join(work, name);
    fs.cpSync(bundle, to, { recursive: true });
    return to;
  };
  const readEvents = (dir: string) => fs.readFileSync(path.join(dir, 'log/events.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  const writeEvents = (dir: string, rows: any[]) => fs.writeFileSync(path.join(dir, 'log/events.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const manifestOf = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));

  before(async () => {
    svc = await startTestService();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-e2e-'));
    bundle = path.join(work, 'bundle');
    a = await svc.newSender('Audited institution');
    b = await svc.newSender('Other institution');
    await svc.newRecipient('citizen', VALID_INSZ);

    bMessages.push(await send(b, 'one'));
    aMessages.push(await send(a, 'one')); // before the period: its rows are redacted too
    await settleAndCheckpoint(); // the slice will start at this pinned row
    await sleep(20);
    const from = new Date();
    aMessages.push(await send(a, 'two'));
    bMessages.push(await send(b, 'one'));
    aMessages.push(await send(a, 'one'));
    await settleAndCheckpoint(); // and end at this one
    const to = new Date(Date.now() + 1);
    bMessages.push(await send(b, 'one')); // after the last checkpoint: not in the slice
    period = { from: from.toISOString(), to: to.toISOString() };

    const r = await runCli('export', ['--sender', a.id, '--from', period.from, '--to', period.to, '--out', bundle, '--documents', '--json'], { env: svc.env });
    expect(r.code, r.stderr).to.equal(0);
    const result = JSON.parse(r.stdout);
    expect(result).to.include({ messages: 2, documents: 3, headPinned: true });
    expect(result.proofs).to.be.at.least(4);
  });
  after(async () => {
    await svc?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('writes the bundle: proofs, statements, documents, manifest, log slice, checkpoints, trust anchors', () => {
    const m = manifestOf(bundle);
    expect(m.format).to.equal('registered-mail-audit-bundle/1');
    expect(m.sender).to.deep.equal({ id: a.id, name: 'Audited institution' });
    expect(new Set(m.proofs.map((p: any) => p.messageId))).to.deep.equal(new Set(aMessages.slice(1)));
    for (const p of m.proofs) {
      expect(p.file).to.match(new RegExp(`^proofs/${p.messageId}/${p.seq}-${p.type}\\.p7s$`));
      const der = fs.readFileSync(path.join(bundle, p.file));
      expect(createHash('sha256').update(der).digest('hex')).to.equal(p.sha256);
      expect(JSON.parse(fs.readFileSync(path.join(bundle, p.statement), 'utf8')).EvidenceIdentifier).to.equal(p.evidenceId);
    }
    expect(m.proofs.map((p: any) => p.type)).to.include.members(['SubmissionAcceptance', 'ContentConsignment']);
    const withAnnex = m.proofs.find((p: any) => p.documents.length === 2);
    expect(fs.readFileSync(path.join(bundle, withAnnex.documents[1].file), 'utf8')).to.equal('annex of the audit test\n');
    expect(fs.readFileSync(path.join(bundle, 'trust/anchors.pem'), 'utf8')).to.equal(fs.readFileSync(svc.rootPem, 'utf8'));
    const checkpoints = JSON.parse(fs.readFileSync(path.join(bundle, 'log/checkpoints.json'), 'utf8'));
    expect(checkpoints).to.have.length(2);
    expect(checkpoints[0].eventSeq).to.equal(m.log.fromSeq);
    expect(checkpoints[1].eventSeq).to.equal(m.log.toSeq);
    expect(fs.existsSync(path.join(bundle, 'README.txt'))).to.equal(true);
  });

  it("redacts every row of other messages to {seq, prevHash, hash}: no other sender's data leaks", () => {
    const rows = readEvents(bundle);
    const redacted = rows.filter((r) => r.redacted);
    expect(redacted.length).to.be.greaterThan(0);
    for (const r of redacted) expect(Object.keys(r).sort()).to.deep.equal(['hash', 'prevHash', 'redacted', 'seq']);
    for (const r of rows.filter((x) => !x.redacted)) expect(aMessages.slice(1)).to.include(r.messageId);
    const everything = fs
      .readdirSync(bundle, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name)).toString('latin1'))
      .join('\n');
    for (const id of [...bMessages, aMessages[0]!, b.id, 'Other institution']) expect(everything).to.not.contain(id);
  });

  it('verify --dir accepts the bundle as it is (bundle trust anchors, all proofs TOTAL_PASSED, documents checked)', async () => {
    const r = await runCli('verify', ['--dir', bundle, '--json']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stderr).to.contain("using the bundle's trust anchors");
    const lines = jsonLines(r.stdout);
    expect(lines).to.have.length(manifestOf(bundle).proofs.length);
    for (const l of lines) {
      expect(l.indication, JSON.stringify(l.checks.filter((c: any) => !c.passed))).to.equal('TOTAL_PASSED');
      expect(l.checks.find((c: any) => c.name === 'STATEMENT_COPY')).to.include({ passed: true });
      expect(l.checks.filter((c: any) => c.name === 'DOCUMENT_DIGEST').length).to.be.at.least(1);
    }
  });

  it('verify --dir with the published root and a human summary', async () => {
    const r = await runCli('verify', ['--dir', bundle, '--trust', svc.rootPem, '--jobs', '2']);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal('');
    expect(r.stdout).to.match(/^ {2}TOTAL_PASSED +\d+$/m);
    expect(r.stdout).to.contain('2 worker processes');
  });

  it('verify-log accepts the slice: chain, both ends pinned, checkpoints valid, proofs recorded', async () => {
    const r = await runCli('verify-log', [bundle, '--trust', svc.rootPem, '--json']);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout);
    expect(report.indication).to.equal('TOTAL_PASSED');
    expect(report.redactedRows).to.be.greaterThan(0);
    expect(report.checks.map((c: any) => c.name)).to.deep.equal(['LOG_FORMAT', 'LOG_CHAIN', 'CHECKPOINT', 'CHECKPOINT', 'LOG_START', 'LOG_HEAD', 'PROOFS_IN_LOG']);
    const human = await runCli('verify-log', [bundle, '--trust', svc.rootPem]);
    expect(human.code).to.equal(0);
    expect(human.stdout.trimEnd().split('\n').pop()).to.equal('  TOTAL_PASSED');
  });

  it('every exported proof the CLI passes also passes openssl cms -verify -cades and openssl ts -verify', async () => {
    const m = manifestOf(bundle);
    for (const p of m.proofs) {
      const file = path.join(bundle, p.file);
      const cms = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', file, '-CAfile', path.join(bundle, 'trust/anchors.pem'), '-out', '/dev/null']);
      expect(cms.code, cms.stderr).to.equal(0);
      const v = await runCli('verify', [file, '--trust', svc.rootPem, '--json']);
      expect(JSON.parse(v.stdout).indication).to.equal('TOTAL_PASSED');
    }
    // one token through openssl ts -verify (the proofs' own test covers the rest)
    const { extractTimeStamp } = await import('../../src/crypto/index.js');
    const { token, signatureValue } = extractTimeStamp(new Uint8Array(fs.readFileSync(path.join(bundle, m.proofs[0].file))));
    fs.writeFileSync(path.join(work, 'tst.der'), token);
    fs.writeFileSync(path.join(work, 'sig.bin'), signatureValue);
    const ts = await openssl(['ts', '-verify', '-token_in', '-in', path.join(work, 'tst.der'), '-data', path.join(work, 'sig.bin'), '-CAfile', svc.rootPem]);
    expect(ts.code, ts.stderr + ts.stdout).to.equal(0);
  });

  it('a checkpoint token passes openssl ts -verify over "<seq>:<hash>"', async () => {
    const cp = JSON.parse(fs.readFileSync(path.join(bundle, 'log/checkpoints.json'), 'utf8'))[1];
    fs.writeFileSync(path.join(work, 'head.txt'), `${cp.eventSeq}:${cp.headHash}`);
    const ts = await openssl(['ts', '-verify', '-token_in', '-in', path.join(bundle, cp.token), '-data', path.join(work, 'head.txt'), '-CAfile', svc.rootPem]);
    expect(ts.code, ts.stderr + ts.stdout).to.equal(0);
  });

  describe('tampering with the bundle is caught', () => {
    it('a proof with one octet of its statement changed: HASH_FAILURE in verify --dir and in verify-log', async () => {
      const dir = copyBundle('tampered-proof');
      const p = manifestOf(dir).proofs[0];
      const file = path.join(dir, p.file);
      const der = fs.readFileSync(file);
      const at = der.indexOf(Buffer.from('"MessageIdentifier"'));
      der[at + 2] = 'm'.charCodeAt(0);
      fs.writeFileSync(file, der);
      const r = await runCli('verify', ['--dir', dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const bad = jsonLines(r.stdout).filter((l) => l.indication !== 'TOTAL_PASSED');
      expect(bad).to.have.length(1);
      expect(bad[0]).to.include({ file: p.file, indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
      expect(bad[0].checks.find((c: any) => c.name === 'MESSAGE_DIGEST')).to.include({ passed: false });
      const log = await runCli('verify-log', [dir, '--trust', svc.rootPem, '--json']);
      expect(log.code).to.equal(1);
      expect(JSON.parse(log.stdout).checks.find((c: any) => c.name === 'PROOFS_IN_LOG')).to.include({ passed: false, subIndication: 'HASH_FAILURE' });
    });

    it('a decoded statement edited: STATEMENT_COPY HASH_FAILURE', async () => {
      const dir = copyBundle('tampered-statement');
      const p = manifestOf(dir).proofs[1];
      const file = path.join(dir, p.statement);
      const s = JSON.parse(fs.readFileSync(file, 'utf8'));
      s.EventTime = '2020-01-01T00:00:00.000Z';
      fs.writeFileSync(file, JSON.stringify(s, null, 2));
      const r = await runCli('verify', ['--dir', dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const bad = jsonLines(r.stdout).find((l) => l.file === p.file);
      expect(bad).to.include({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
      expect(bad.checks.find((c: any) => c.name === 'STATEMENT_COPY').detail).to.contain('EventTime');
    });

    it('a document replaced: DOCUMENT_DIGEST HASH_FAILURE for every proof naming it', async () => {
      const dir = copyBundle('tampered-document');
      const m = manifestOf(dir);
      const withAnnex = m.proofs.find((p: any) => p.documents.length === 2);
      fs.writeFileSync(path.join(dir, withAnnex.documents[1].file), 'another annex\n');
      const r = await runCli('verify', ['--dir', dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const bad = jsonLines(r.stdout).filter((l) => l.indication !== 'TOTAL_PASSED');
      expect(bad.map((l) => l.file).sort()).to.deep.equal(m.proofs.filter((p: any) => p.messageId === withAnnex.messageId).map((p: any) => p.file).sort());
      for (const l of bad) expect(l.checks.find((c: any) => c.name === 'DOCUMENT_DIGEST' && !c.passed)).to.include({ subIndication: 'HASH_FAILURE' });
    });

    it('a proof deleted from the bundle: reported, not skipped', async () => {
      const dir = copyBundle('missing-proof');
      const p = manifestOf(dir).proofs[0];
      fs.rmSync(path.join(dir, p.file));
      const r = await runCli('verify', ['--dir', dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(2);
      expect(jsonLines(r.stdout).find((l) => l.file === p.file)).to.include({ indication: 'INDETERMINATE', subIndication: 'SIGNED_DATA_NOT_FOUND' });
    });

    it("an event row's content edited: LOG_CHAIN HASH_FAILURE naming that row", async () => {
      const dir = copyBundle('tampered-row');
      const rows = readEvents(dir);
      const i = rows.findIndex((r) => !r.redacted && r.type === 'ContentConsignment');
      rows[i].data.status = 'CONSULTED';
      writeEvents(dir, rows);
      const r = await runCli('verify-log', [dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const report = JSON.parse(r.stdout);
      expect(report).to.include({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
      expect(report.firstBreak).to.include({ seq: rows[i].seq, line: i + 1 });
      expect(report.checks.find((c: any) => c.name === 'LOG_CHAIN').detail).to.contain(`row ${rows[i].seq}`);
      const human = await runCli('verify-log', [dir, '--trust', svc.rootPem]);
      expect(human.stdout).to.match(new RegExp(`first break +row ${rows[i].seq} \\(line ${i + 1}`));
    });

    it("a redacted row's hash changed: the next row no longer chains", async () => {
      const dir = copyBundle('tampered-redacted');
      const rows = readEvents(dir);
      const i = rows.findIndex((r, k) => r.redacted && k > 0 && k < rows.length - 1);
      rows[i].hash = 'f'.repeat(64);
      writeEvents(dir, rows);
      const r = await runCli('verify-log', [dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const report = JSON.parse(r.stdout);
      expect(report.firstBreak.seq).to.equal(rows[i + 1].seq);
      expect(report.subIndication).to.equal('HASH_FAILURE');
    });

    it('a row rewritten with every later hash recomputed: the checkpoint time-stamp catches it', async () => {
      const dir = copyBundle('rewritten-chain');
      const rows = readEvents(dir);
      const i = rows.findIndex((r) => !r.redacted);
      rows[i].data.status = 'REJECTED';
      for (let k = i; k < rows.length; k++) {
        if (k > i) rows[k].prevHash = rows[k - 1].hash;
        if (!rows[k].redacted) rows[k].hash = eventHash(rows[k].prevHash, rows[k]);
        else rows[k].hash = createHash('sha256').update(rows[k].prevHash + 'forged').digest('hex');
      }
      writeEvents(dir, rows);
      const r = await runCli('verify-log', [dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(1);
      const report = JSON.parse(r.stdout);
      expect(report.checks.find((c: any) => c.name === 'LOG_CHAIN')).to.include({ passed: true });
      expect(report).to.include({ indication: 'TOTAL_FAILED', subIndication: 'TIMESTAMP_IMPRINT_MISMATCH' });
      expect(report.firstBreak.seq).to.equal(rows[rows.length - 1].seq);
      expect(report.checks.find((c: any) => c.name === 'LOG_HEAD')).to.include({ passed: false, subIndication: 'NO_POE' });
    });

    it('the last checkpoint dropped: the head is unpinned (INDETERMINATE / NO_POE)', async () => {
      const dir = copyBundle('unpinned');
      const file = path.join(dir, 'log/checkpoints.json');
      fs.writeFileSync(file, JSON.stringify(JSON.parse(fs.readFileSync(file, 'utf8')).slice(0, 1)));
      const r = await runCli('verify-log', [dir, '--trust', svc.rootPem, '--json']);
      expect(r.code).to.equal(2);
      expect(JSON.parse(r.stdout)).to.include({ indication: 'INDETERMINATE', subIndication: 'NO_POE' });
    });

    it('a malformed events file: FORMAT_FAILURE naming the line, never a stack trace', async () => {
      const dir = copyBundle('malformed-log');
      const file = path.join(dir, 'log/events.jsonl');
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines[2] = '{"seq": 3, "prevHash": "zz"';
      fs.writeFileSync(file, lines.join('\n'));
      const r = await runCli('verify-log', [dir, '--trust', svc.rootPem]);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.contain('line 3 is not JSON');
      expect(r.stdout + r.stderr).to.not.match(STACK);
    });

    it('checkpoints against an unrelated root: NO_CERTIFICATE_CHAIN_FOUND', async () => {
      const other = path.resolve(import.meta.dirname, '..', 'fixtures', 'verify', 'other-root.pem');
      const r = await runCli('verify-log', [bundle, '--trust', other, '--json']);
      expect(r.code).to.equal(2);
      expect(JSON.parse(r.stdout).subIndication).to.equal('NO_CERTIFICATE_CHAIN_FOUND');
    });
  });

  describe('export and verify-log usage errors (exit 3, one line, no stack trace)', () => {
    const cases: Array<[string, () => string[], RegExp]> = [
      ['an unknown sender', () => ['--sender', 'nobody', '--from', '2026-01-01', '--to', '2030-01-01', '--out', path.join(work, 'x1')], /no sender with id nobody/],
      ['an existing output folder', () => ['--sender', a.id, '--from', period.from, '--to', period.to, '--out', bundle], /exists and is not empty/],
      ['a bad --from', () => ['--sender', a.id, '--from', 'last year', '--to', period.to, '--out', path.join(work, 'x2')], /--from: "last year" is not a time/],
      ['an empty period', () => ['--sender', a.id, '--from', '2030-01-01', '--to', '2029-01-01', '--out', path.join(work, 'x3')], /the period is empty/],
      ['a period without messages', () => ['--sender', a.id, '--from', '2001-01-01', '--to', '2002-01-01', '--out', path.join(work, 'x4')], /submitted no message/],
      ['a missing option', () => ['--sender', a.id], /required option/],
    ];
    for (const [what, args, message] of cases) {
      it(`export: ${what}`, async () => {
        const r = await runCli('export', args(), { env: svc.env });
        expect(r.code, r.stderr).to.equal(3);
        expect(r.stderr).to.match(message);
        expect(r.stderr).to.not.match(STACK);
      });
    }

    it('verify-log: a missing folder, a folder without a log', async () => {
      const r = await runCli('verify-log', [path.join(work, 'nope'), '--trust', svc.rootPem]);
      expect(r.code).to.equal(3);
      expect(r.stderr).to.contain('no such directory');
      const empty = fs.mkdtempSync(path.join(work, 'empty-'));
      const e = await runCli('verify-log', [empty, '--trust', svc.rootPem]);
      expect(e.code).to.equal(3);
      expect(e.stderr).to.contain('the event log is missing');
      expect(e.stderr).to.not.match(STACK);
    });
  });
});
