/**
 * `verify` with evidence records, as a real process, at dates years ahead (docs/evidence-records.md,
 * "Auditor side"). Development PKIs made at chosen dates stand for TSAs whose certificates
 * expire: the proof's sealing and TSA certificates (PKI A) expire in 2031, its record is
 * time-stamped by A in 2026 and renewed by B (certificates to 2039) in 2030 and by C (to 2048)
 * in 2038. At 2045 the proof alone is OUT_OF_BOUNDS_NO_POE; with its record it is TOTAL_PASSED.
 * Each broken record is refused with the record verifier's check name, alone and with --dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { BUNDLE_FORMAT } from '../../src/audit/bundle.js';
import { buildHashTree, derToPem, encodeEvidenceRecord, issueDevCrl, parseEvidenceRecord, type DevPki } from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { inBatches, jsonLines, runCli } from '../helpers/cli.js';
import { flipIn, pkiAt, recordsFor, sealProof, sha256, type SealedProof } from '../helpers/records.js';

const STACK = /^\s+at .+[(:]\d+/m;
const AT_2045 = '2045-01-01T00:00:00Z';
const POE = '2026-06-01T12:00:00.000Z';

describe('verify with evidence records (validation at any date with a proof of existence)', function () {
  this.timeout(300_000);
  let work: string;
  let a: DevPki;
  let b: DevPki;
  let c: DevPki;
  let sealed: SealedProof[];
  /** records[k][i]: proof i's record after k renewals (0: A alone; 1: +B 2030; 2: +C 2038). */
  let records: Uint8Array[][];
  const file = (...names: string[]) => path.join(work, ...names);
  const write = (name: string, bytes: Uint8Array | string) => {
    fs.mkdirSync(path.dirname(file(name)), { recursive: true });
    fs.writeFileSync(file(name), bytes);
    return file(name);
  };
  const verify = (...args: string[]) => runCli('verify', [...args, '--trust', file('roots.pem'), '--json']);
  const line = (report: any, name: string) => report.checks.find((k: any) => k.name === name);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-ers-'));
    [a, b, c] = await Promise.all([pkiAt('2021-06-01T00:00:00Z'), pkiAt('2029-01-01T00:00:00Z'), pkiAt('2038-01-01T00:00:00Z')]);
    sealed = [];
    for (let i = 0; i < 5; i++) sealed.push(await sealProof(a.seal, a.tsa, '2026-06-01T10:00:00Z', i + 1));
    records = await recordsFor(
      sealed.map((s) => s.der),
      { tsa: a.tsa, at: '2026-06-01T12:00:00Z' },
      [
        { tsa: b.tsa, at: '2030-06-01T00:00:00Z' },
        { tsa: c.tsa, at: '2038-06-01T00:00:00Z' },
      ],
    );
    write('roots.pem', [a, b, c].map((p) => derToPem(p.root.certificate, 'CERTIFICATE')).join(''));
    write('proof.p7s', sealed[0]!.der);
    write('proof.ers', records[2]![0]!);
    write('alone/proof.p7s', sealed[0]!.der);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('a proof whose certificates expired in 2031 is TOTAL_PASSED at 2045 with its record, OUT_OF_BOUNDS_NO_POE without', async () => {
    const [without, withRecord] = await Promise.all([verify(file('alone', 'proof.p7s'), '--at', AT_2045), verify(file('alone', 'proof.p7s'), '--record', file('proof.ers'), '--at', AT_2045)]);
    const w = JSON.parse(without.stdout);
    expect(w).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    expect(without.code).to.equal(2);
    expect(line(w, 'EVIDENCE_RECORD')).to.equal(undefined);
    const r = JSON.parse(withRecord.stdout);
    expect(r.indication, withRecord.stdout).to.equal('TOTAL_PASSED');
    expect(withRecord.code).to.equal(0);
    expect(r.validatedAtPoe).to.equal(POE);
    expect(r.evidenceRecord).to.deep.include({ source: 'option', valid: true, poe: POE, validatedAt: '2045-01-01T00:00:00.000Z' });
    expect(r.evidenceRecord.timeStamps.map((t: any) => t.genTime)).to.deep.equal([POE, '2030-06-01T00:00:00.000Z', '2038-06-01T00:00:00.000Z']);
    expect(r.evidenceRecord.timeStamps.every((t: any) => /Time-Stamping Authority/.test(t.tsa))).to.equal(true);
    expect(line(r, 'EVIDENCE_RECORD')).to.deep.include({ passed: true });
    expect(line(r, 'EVIDENCE_RECORD').detail).to.match(new RegExp(`the proof existed at ${POE}.*2 renewals.*past signature validation`));
    expect(line(r, 'CERTIFICATE_CHAIN').detail).to.contain('2026-06-01T12:00:00.000Z');
    expect(r.checks.every((k: any) => k.passed)).to.equal(true);
  });

  it('uses the .ers beside the proof and says so; --no-record ignores it', async () => {
    const [beside, ignored] = await Promise.all([verify(file('proof.p7s'), '--at', AT_2045), verify(file('proof.p7s'), '--at', AT_2045, '--no-record')]);
    const r = JSON.parse(beside.stdout);
    expect(r.indication, beside.stdout).to.equal('TOTAL_PASSED');
    expect(r.evidenceRecord).to.deep.include({ source: 'beside', file: file('proof.ers') });
    expect(line(r, 'EVIDENCE_RECORD').detail).to.contain('(found beside the proof)');
    expect(JSON.parse(ignored.stdout)).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    const human = await runCli('verify', [file('proof.p7s'), '--trust', file('roots.pem'), '--at', AT_2045]);
    expect(human.code).to.equal(0);
    expect(human.stdout).to.match(/ok {3}EVIDENCE_RECORD/);
    expect(human.stdout).to.match(/record\s+.*proof\.ers \(found beside the proof\): 2026-06-01T12:00:00\.000Z by .*, renewed 2030/);
    expect(human.stdout).to.match(/existed at\s+2026-06-01T12:00:00\.000Z \(POE/);
    expect(human.stdout).to.match(/validated at\s+2026-06-01T12:00:00\.000Z: certificate paths and revocation at the POE/);
  });

  it('a record whose last archive time-stamp\'s TSA certificate expired before --at is no POE: the proof keeps OUT_OF_BOUNDS_NO_POE, the record line NO_POE naming TIMESTAMP_TOKEN', async () => {
    const runs = await inBatches(
      [
        [records[0]![0]!, AT_2045], // A alone: expired 2031
        [records[1]![0]!, AT_2045], // renewed by B only: expired 2039
        [records[1]![0]!, '2035-01-01T00:00:00Z'], // … which holds in 2035
      ] as Array<[Uint8Array, string]>,
      2,
      ([record, at], i = Math.random()) => verify(file('alone', 'proof.p7s'), '--record', write(`short-${at}-${i}.ers`, record), '--at', at),
    );
    for (const run of runs.slice(0, 2)) {
      const r = JSON.parse(run.stdout);
      expect(r).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
      expect(run.code).to.equal(2);
      expect(r.evidenceRecord).to.deep.include({ valid: false, failedCheck: 'TIMESTAMP_TOKEN' });
      expect(line(r, 'EVIDENCE_RECORD')).to.deep.include({ passed: false, subIndication: 'NO_POE' });
      expect(line(r, 'EVIDENCE_RECORD').detail).to.match(/: TIMESTAMP_TOKEN: ArchiveTimeStamp \d: /);
      expect(line(r, 'CERTIFICATE_CHAIN')).to.deep.include({ passed: false, subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    }
    expect(JSON.parse(runs[2]!.stdout).indication).to.equal('TOTAL_PASSED');
  });

  it('each broken record fails with its named check: tampered leaf, record of another proof, wrong path node, broken renewal, skipped renewal', async () => {
    const tree = buildHashTree(sealed.map((s) => sha256(s.der)));
    const sibling = Buffer.from(tree.paths[0]![0]!).toString('hex');
    const another = sealed.findIndex((s, i) => i > 0 && Buffer.from(sha256(s.der)).toString('hex') !== sibling);
    const pathNodes = tree.paths[0]!;
    const chain = parseEvidenceRecord(records[2]![0]!).chains[0]!;
    const foreign = (await recordsFor([sealed[3]!.der, sealed[4]!.der], { tsa: a.tsa, at: '2026-06-02T00:00:00Z' }, [{ tsa: b.tsa, at: '2030-06-01T00:00:00Z' }]))[1]!;
    const tamperedProof = flipIn(sealed[0]!.der, sealed[0]!.der.subarray(sealed[0]!.der.length - 8));
    write('tampered.p7s', tamperedProof);
    const cases: Array<{ what: string; proof: string; record: Uint8Array; check: string }> = [
      { what: 'tampered leaf (the proof changed)', proof: file('tampered.p7s'), record: records[2]![0]!, check: 'LEAF_DIGEST' },
      { what: 'record of another proof', proof: file('alone', 'proof.p7s'), record: records[2]![another]!, check: 'LEAF_DIGEST' },
      { what: 'wrong path node', proof: file('alone', 'proof.p7s'), record: flipIn(records[2]![0]!, pathNodes[pathNodes.length - 1]!), check: 'ROOT_IMPRINT' },
      { what: 'renewal over another chain', proof: file('alone', 'proof.p7s'), record: encodeEvidenceRecord([[chain[0]!.der, parseEvidenceRecord(foreign[0]!).chains[0]![1]!.der]]), check: 'RENEWAL_CHAIN' },
      { what: 'renewal that skips one', proof: file('alone', 'proof.p7s'), record: encodeEvidenceRecord([[chain[0]!.der, chain[2]!.der]]), check: 'TIMESTAMP_TOKEN' },
      { what: 'not a record', proof: file('alone', 'proof.p7s'), record: sealed[1]!.der, check: 'RECORD_STRUCTURE' },
    ];
    const runs = await inBatches(cases, 2, (k, i = cases.indexOf(k)) => verify(k.proof, '--record', write(`broken-${i}.ers`, k.record), '--at', AT_2045));
    for (const [i, run] of runs.entries()) {
      const k = cases[i]!;
      const r = JSON.parse(run.stdout);
      expect(r.evidenceRecord?.failedCheck, `${k.what}: ${run.stdout}`).to.equal(k.check);
      expect(line(r, 'EVIDENCE_RECORD')).to.deep.include({ passed: false, subIndication: 'NO_POE' });
      expect(line(r, 'EVIDENCE_RECORD').detail).to.contain(`: ${k.check}: `);
      expect(r.validatedAtPoe).to.equal(undefined);
      if (k.proof === file('tampered.p7s')) {
        expect(r.indication, k.what).to.equal('TOTAL_FAILED');
        expect(run.code).to.equal(1);
      } else {
        // the proof does not pass alone at 2045: it keeps its own sub-indication, the record line says why no POE helped
        expect(r, k.what).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
        expect(run.code).to.equal(2);
      }
    }
  });

  it('a record that fails makes even a proof valid on its own INDETERMINATE / NO_POE', async () => {
    const tree = buildHashTree(sealed.map((s) => sha256(s.der)));
    const sibling = Buffer.from(tree.paths[0]![0]!).toString('hex');
    const another = sealed.findIndex((s, i) => i > 0 && Buffer.from(sha256(s.der)).toString('hex') !== sibling);
    const [alone, wrong] = await Promise.all([verify(file('alone', 'proof.p7s')), verify(file('alone', 'proof.p7s'), '--record', write('other.ers', records[2]![another]!))]);
    expect(JSON.parse(alone.stdout).indication).to.equal('TOTAL_PASSED');
    expect(JSON.parse(wrong.stdout)).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'NO_POE' });
  });

  it('a POE after the certificates expired does not help: OUT_OF_BOUNDS_NO_POE, the record line saying why', async () => {
    const late = (await recordsFor([sealed[0]!.der, sealed[1]!.der], { tsa: b.tsa, at: '2032-01-01T00:00:00Z' }, [{ tsa: c.tsa, at: '2038-06-01T00:00:00Z' }]))[1]![0]!;
    const run = await verify(file('alone', 'proof.p7s'), '--record', write('late.ers', late), '--at', AT_2045);
    const r = JSON.parse(run.stdout);
    expect(r).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    expect(r.evidenceRecord).to.deep.include({ valid: true, poe: '2032-01-01T00:00:00.000Z' });
    expect(line(r, 'EVIDENCE_RECORD')).to.deep.include({ passed: true });
    expect(line(r, 'EVIDENCE_RECORD').detail).to.match(/does not validate at that time either \(CERTIFICATE_CHAIN: /);
  });

  it('usage errors: a missing --record, --record with --dir (exit 3, no stack)', async () => {
    const runs = await Promise.all([verify(file('proof.p7s'), '--record', file('missing.ers')), runCli('verify', ['--dir', work, '--record', file('proof.ers'), '--trust', file('roots.pem')])]);
    expect(runs[0]!.stderr).to.match(/--record .*missing\.ers: no such file/);
    expect(runs[1]!.stderr).to.match(/--record goes with a single proof/);
    for (const r of runs) {
      expect(r.code).to.equal(3);
      expect(r.stderr).to.not.match(STACK);
      expect(r.stdout).to.equal('');
    }
  });

  describe('REVOKED_NO_POE lifted by a POE before the revocation', () => {
    // Sealing certificate of L (2025–2035), TSA of S (2018–2028); the record by S in 2026, renewed by L's TSA in 2027.
    let l: DevPki;
    let s: DevPki;
    let crls: string[];
    const serial = (der: Uint8Array) => parseCertificate(der).serialNumber;
    const AT = '2030-01-10T00:00:00Z';

    before(async () => {
      [l, s] = await Promise.all([pkiAt('2025-01-01T00:00:00Z'), pkiAt('2018-01-01T00:00:00Z')]);
      const proof = await sealProof(l.seal, s.tsa, '2026-06-01T10:00:00Z', 42);
      const rec = (await recordsFor([proof.der, sealed[1]!.der], { tsa: s.tsa, at: '2026-06-01T12:00:00Z' }, [{ tsa: l.tsa, at: '2027-06-01T00:00:00Z' }]))[1]![0]!;
      write('rev/proof.p7s', proof.der);
      write('rev/record.ers', rec);
      write('rev/roots.pem', [l, s].map((p) => derToPem(p.root.certificate, 'CERTIFICATE')).join(''));
      const crlOpts = { thisUpdate: new Date('2030-01-01T00:00:00Z'), nextUpdate: new Date('2030-02-01T00:00:00Z') };
      s.revoked = [];
      write('rev/s.crl', await issueDevCrl(s, crlOpts));
      l.revoked = [{ serialNumber: serial(l.seal.certificate), revocationDate: new Date('2029-01-01T00:00:00Z'), reason: 'superseded' }];
      write('rev/l-after.crl', await issueDevCrl(l, crlOpts));
      l.revoked = [{ serialNumber: serial(l.seal.certificate), revocationDate: new Date('2026-01-01T00:00:00Z'), reason: 'keyCompromise' }];
      write('rev/l-before.crl', await issueDevCrl(l, crlOpts));
      crls = ['--crl', file('rev', 's.crl')];
    });

    const run = (...args: string[]) => runCli('verify', [file('rev', 'proof.p7s'), '--trust', file('rev', 'roots.pem'), '--json', '--at', AT, ...crls, ...args]);

    it('revoked in 2029, TSA certificate expired in 2028: REVOKED_NO_POE without the record, TOTAL_PASSED with it', async () => {
      const [without, withRecord] = await Promise.all([run('--crl', file('rev', 'l-after.crl')), run('--crl', file('rev', 'l-after.crl'), '--record', file('rev', 'record.ers'))]);
      const w = JSON.parse(without.stdout);
      expect(w, without.stdout).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'REVOKED_NO_POE' });
      expect(line(w, 'TSA_CERTIFICATE_CHAIN')).to.deep.include({ passed: false });
      const r = JSON.parse(withRecord.stdout);
      expect(r.indication, withRecord.stdout).to.equal('TOTAL_PASSED');
      expect(r.validatedAtPoe).to.equal(POE);
      expect(line(r, 'REVOCATION').detail).to.match(/after the time-stamp's genTime .*existed before the revocation/);
    });

    it('revoked before the signature time-stamp: the POE does not help, the indication at --at stays (EN 319 102-1 §5.6.2.4)', async () => {
      const runs = await Promise.all([run('--crl', file('rev', 'l-before.crl')), run('--crl', file('rev', 'l-before.crl'), '--record', file('rev', 'record.ers'))]);
      for (const r of runs) {
        expect(JSON.parse(r.stdout), r.stdout).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'REVOKED_NO_POE' });
        expect(r.code).to.equal(2);
      }
      const withRecord = JSON.parse(runs[1]!.stdout);
      expect(withRecord.validatedAtPoe).to.equal(undefined);
      expect(line(withRecord, 'EVIDENCE_RECORD')).to.deep.include({ passed: true });
      expect(line(withRecord, 'EVIDENCE_RECORD').detail).to.match(/does not validate at that time either \(REVOCATION: revoked at 2026-01-01T00:00:00\.000Z .*not after the time-stamp's genTime/);
    });

    it('the same proof and CRL at a date its TSA certificate was valid: REVOKED (TOTAL_FAILED), with or without the record', async () => {
      const runs = await Promise.all([run('--crl', file('rev', 'l-before.crl'), '--at', '2027-06-01T00:00:00Z'), run('--crl', file('rev', 'l-before.crl'), '--at', '2027-06-01T00:00:00Z', '--record', file('rev', 'record.ers'))]);
      for (const r of runs) expect(JSON.parse(r.stdout), r.stdout).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    });
  });

  describe('--dir on a bundle', () => {
    let bundle: string;
    const rel = (s: SealedProof) => `proofs/${s.messageId}/1-SubmissionAcceptance`;

    before(() => {
      bundle = file('bundle');
      // proofs 0–2 listed by a manifest (0 and 1 with `record`, 2 without: its .ers lies beside); 3 unlisted with its .ers beside; 4 without record
      const listed = sealed.slice(0, 3).map((s, i) => ({
        file: `${rel(s)}.p7s`,
        statement: `statements/${s.messageId}/1-SubmissionAcceptance.json`,
        messageId: s.messageId,
        evidenceId: s.evidenceId,
        seq: 1,
        type: 'SubmissionAcceptance',
        sha256: Buffer.from(sha256(s.der)).toString('hex'),
        documents: [],
        ...(i < 2 ? { record: `${rel(s)}.ers` } : {}),
      }));
      for (const [i, s] of sealed.entries()) {
        write(`bundle/${rel(s)}.p7s`, s.der);
        if (i < 4) write(`bundle/${rel(s)}.ers`, records[2]![i]!);
        write(`bundle/statements/${s.messageId}/1-SubmissionAcceptance.json`, s.statementJson);
      }
      fs.mkdirSync(path.join(bundle, 'trust'));
      fs.copyFileSync(file('roots.pem'), path.join(bundle, 'trust', 'anchors.pem'));
      const manifest = {
        format: BUNDLE_FORMAT,
        createdAt: '2026-06-02T00:00:00Z',
        sender: { id: 'ers-sender', name: 'Archive Institution' },
        period: { from: '2026-06-01T00:00:00Z', to: '2026-06-02T00:00:00Z' },
        trustAnchors: ['trust/anchors.pem'],
        proofs: listed,
        log: { events: 'log/events.jsonl', checkpoints: 'log/checkpoints.json', fromSeq: 1, toSeq: 1, redactedRows: 0 },
      };
      write('bundle/manifest.json', JSON.stringify(manifest, null, 2));
    });

    for (const jobs of ['0', '2']) {
      it(`uses each proof's record, from the manifest or beside it, at 2045 (${jobs === '0' ? 'in process' : 'two worker processes'})`, async () => {
        const r = await runCli('verify', ['--dir', bundle, '--at', AT_2045, '--json', '--jobs', jobs, '--trust', file('roots.pem')]);
        const reports = jsonLines(r.stdout).sort((x, y) => x.file.localeCompare(y.file));
        expect(reports).to.have.length(5);
        const byFile = new Map(reports.map((x) => [x.file, x]));
        const sources = sealed.map((s) => byFile.get(`${rel(s)}.p7s`)?.evidenceRecord?.source);
        expect(sources).to.deep.equal(['manifest', 'manifest', 'beside', 'beside', undefined]);
        for (const s of sealed.slice(0, 4)) {
          const x = byFile.get(`${rel(s)}.p7s`);
          expect(x.indication, JSON.stringify(x)).to.equal('TOTAL_PASSED');
          expect(x.validatedAtPoe).to.equal(POE);
          expect(x.evidenceRecord.file).to.equal(`${rel(s)}.ers`);
          expect(line(x, 'STATEMENT_COPY')?.passed ?? true).to.equal(true);
        }
        expect(byFile.get(`${rel(sealed[4]!)}.p7s`)).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
        expect(r.code).to.equal(2);
      });
    }

    it('names each broken record in --dir mode, and a record the manifest names but that is missing', async () => {
      const broken = path.join(work, 'bundle-broken');
      fs.cpSync(bundle, broken, { recursive: true });
      const tree = buildHashTree(sealed.map((s) => sha256(s.der)));
      const p = tree.paths[1]!;
      const sibling0 = Buffer.from(tree.paths[0]![0]!).toString('hex');
      const another = sealed.findIndex((s, i) => i > 0 && Buffer.from(sha256(s.der)).toString('hex') !== sibling0);
      fs.writeFileSync(path.join(broken, `${rel(sealed[0]!)}.ers`), records[2]![another]!); // another proof's record
      fs.writeFileSync(path.join(broken, `${rel(sealed[1]!)}.ers`), flipIn(records[2]![1]!, p[p.length - 1]!)); // a wrong path node
      const chain = parseEvidenceRecord(records[2]![2]!).chains[0]!;
      fs.writeFileSync(path.join(broken, `${rel(sealed[2]!)}.ers`), encodeEvidenceRecord([[chain[0]!.der, chain[2]!.der]])); // a skipped renewal
      fs.writeFileSync(path.join(broken, `${rel(sealed[3]!)}.p7s`), flipIn(sealed[3]!.der, sealed[3]!.der.subarray(-8))); // the proof changed
      const manifest = JSON.parse(fs.readFileSync(path.join(broken, 'manifest.json'), 'utf8'));
      manifest.proofs.push({ ...manifest.proofs[0], file: `${rel(sealed[4]!)}.p7s`, statement: `statements/${sealed[4]!.messageId}/1-SubmissionAcceptance.json`, record: `${rel(sealed[4]!)}.ers` });
      fs.writeFileSync(path.join(broken, 'manifest.json'), JSON.stringify(manifest));
      for (const jobs of ['0', '2']) {
        const r = await runCli('verify', ['--dir', broken, '--at', AT_2045, '--json', '--jobs', jobs, '--trust', file('roots.pem')]);
        const byFile = new Map(jsonLines(r.stdout).map((x) => [x.file, x]));
        const failed = sealed.map((s) => byFile.get(`${rel(s)}.p7s`)?.evidenceRecord?.failedCheck);
        expect(failed.slice(0, 4), r.stdout).to.deep.equal(['LEAF_DIGEST', 'ROOT_IMPRINT', 'TIMESTAMP_TOKEN', 'LEAF_DIGEST']);
        expect(byFile.get(`${rel(sealed[3]!)}.p7s`).indication).to.equal('TOTAL_FAILED');
        const missing = byFile.get(`${rel(sealed[4]!)}.p7s`);
        expect(missing).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'OUT_OF_BOUNDS_NO_POE' });
        expect(line(missing, 'EVIDENCE_RECORD')).to.deep.include({ passed: false, subIndication: 'NO_POE' });
        expect(line(missing, 'EVIDENCE_RECORD').detail).to.match(/\.ers \(named by manifest\.json\): .*no such file/);
        expect(r.code).to.equal(1);
      }
      const human = await runCli('verify', ['--dir', broken, '--at', AT_2045, '--jobs', '0', '--trust', file('roots.pem')]);
      expect(human.stdout).to.match(/INDETERMINATE\s+OUT_OF_BOUNDS_NO_POE\s+\d/);
      expect(human.stdout, human.stdout).to.match(/EVIDENCE_RECORD: .*: ROOT_IMPRINT: /);
    });
  });
});
