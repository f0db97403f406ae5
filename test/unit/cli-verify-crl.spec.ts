/**
 * `verify --crl` as a real process, on proofs made by the service's own sealing code
 * (Sealer, the built-in TSA) and CRLs issued by the development root: REVOKED,
 * REVOKED_NO_POE, TRY_LATER and a passing revocation check, for the signer and the TSA
 * (docs/revocation.md). Without --crl the report is what it was.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DEFAULT_EVIDENCE_POLICY_OID, DEFAULT_TSA_POLICY_OID } from '../../src/config.js';
import { CadesTWriter, createDevPki, derToPem, issueDevCrl, LocalTimeStamper, signerFor, TimeStampAuthority, type DevPki, type RevokedCertificate } from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { buildStatement, canonicalStatementBytes } from '../../src/domain/EvidenceStatement.js';
import { Sealer } from '../../src/registered-mail/sealing.js';
import { inBatches, runCli } from '../helpers/cli.js';

const STACK = /^\s+at .+[(:]\d+/m;
const MINUTE = 60_000;

describe('verify --crl (revocation)', function () {
  this.timeout(180_000);
  let work: string;
  let pki: DevPki;
  let genTime: Date;
  const file = (name: string) => path.join(work, name);

  async function crlWith(name: string, revoked: RevokedCertificate[], options: { thisUpdate?: Date; nextUpdate?: Date } = {}, format: 'der' | 'pem' = 'der'): Promise<string> {
    pki.revoked = revoked;
    const der = await issueDevCrl(pki, options);
    fs.writeFileSync(file(name), format === 'pem' ? derToPem(der, 'X509 CRL') : der);
    return file(name);
  }

  const serial = (der: Uint8Array) => parseCertificate(der).serialNumber;
  const at = (offset: number) => new Date(genTime.getTime() + offset);
  const verify = (...args: string[]) => runCli('verify', [file('proof.p7s'), '--trust', file('root.pem'), '--json', ...args]);
  const line = (report: any, name: string) => report.checks.find((c: any) => c.name === name);

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-crl-'));
    pki = await createDevPki('ECDSA-P256');
    // The proof's time-stamp ten minutes ago: revocations before and after it are both in the past.
    genTime = new Date(Math.floor((Date.now() - 10 * MINUTE) / 1000) * 1000);
    const tsa = new TimeStampAuthority(pki.tsa, { policyOid: DEFAULT_TSA_POLICY_OID, accuracyMs: 1, clock: () => genTime });
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(tsa));
    const signingTime = new Date(genTime.getTime() - 1000);
    const statement = buildStatement({
      evidenceId: '00000000-0000-4000-8000-000000000013',
      type: 'SubmissionAcceptance',
      eventTime: signingTime,
      policyOid: DEFAULT_EVIDENCE_POLICY_OID,
      issuerName: 'Registered Mail Trust Service (revocation test)',
      sender: { id: 'crl-sender', name: 'CRL Institution', reference: 'REF-CRL-1' },
      recipient: { type: 'citizen', id: '85073003328' },
      submissionTime: signingTime,
      messageId: '10000000-0000-4000-8000-000000000013',
      subject: { nl: 'Uw beslissing', fr: 'Votre décision' },
      documents: [{ partName: 'main', fileName: 'letter.pdf', mediaType: 'application/pdf', size: 1000, isMain: true, sha256: 'ab'.repeat(32) }],
      previousEvidenceSha256: null,
    });
    fs.writeFileSync(file('proof.p7s'), (await sealer.seal(statement, signingTime)).der);
    // The same writer without a time-stamp: a CAdES-B-B, whose signature has no proof of existence.
    const writer = new CadesTWriter(signerFor(pki.seal));
    fs.writeFileSync(file('proof-b.p7s'), writer.assemble(await writer.prepare(canonicalStatementBytes(statement), signingTime)));
    fs.writeFileSync(file('root.pem'), derToPem(pki.root.certificate, 'CERTIFICATE'));
    fs.mkdirSync(file('bundle'));
    fs.copyFileSync(file('proof.p7s'), path.join(file('bundle'), 'proof.p7s'));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('passes, naming the revocation checks, with a fresh CRL that lists neither certificate (DER and PEM)', async () => {
    const der = await crlWith('good.crl', []);
    const pem = await crlWith('good.pem', [], {}, 'pem');
    for (const crl of [der, pem]) {
      const r = await verify('--crl', crl);
      expect(r.stderr).to.equal('');
      const report = JSON.parse(r.stdout);
      expect(report.indication, r.stdout).to.equal('TOTAL_PASSED');
      expect(r.code).to.equal(0);
      expect(line(report, 'REVOCATION')).to.deep.include({ passed: true });
      expect(line(report, 'REVOCATION').detail).to.match(/^not revoked: the CRL number \d+ issued/);
      expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: true });
    }
  });

  it('without --crl the report is what it was: no revocation line, the same checks otherwise', async () => {
    const crl = await crlWith('good2.crl', []);
    const [without, withCrl] = await Promise.all([verify(), verify('--crl', crl)]);
    const a = JSON.parse(without.stdout);
    const b = JSON.parse(withCrl.stdout);
    expect(a.indication).to.equal('TOTAL_PASSED');
    expect(a.checks.map((c: any) => c.name)).to.not.include.members(['REVOCATION', 'TSA_REVOCATION']);
    expect(b.checks.filter((c: any) => !/REVOCATION$/.test(c.name))).to.deep.equal(a.checks);
  });

  it('REVOKED (TOTAL_FAILED) when the sealing certificate was revoked before the time-stamp', async () => {
    const crl = await crlWith('seal-before.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-5 * MINUTE), reason: 'keyCompromise' }]);
    const r = await verify('--crl', crl);
    const report = JSON.parse(r.stdout);
    expect(report).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    expect(r.code).to.equal(1);
    expect(line(report, 'REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED' });
    expect(line(report, 'REVOCATION').detail).to.match(/reason keyCompromise.*not after the time-stamp's genTime/);
    expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: true });
  });

  it('passes when the sealing certificate was revoked after the time-stamp: the proof of existence precedes it', async () => {
    const crl = await crlWith('seal-after.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(2 * MINUTE), reason: 'keyCompromise' }]);
    const report = JSON.parse((await verify('--crl', crl)).stdout);
    expect(report.indication).to.equal('TOTAL_PASSED');
    expect(line(report, 'REVOCATION').detail).to.match(/after the time-stamp's genTime .*existed before the revocation/);
  });

  it('REVOKED_NO_POE when the TSA key was compromised: the time-stamp proves nothing, so a later revocation of the sealing certificate cannot be placed', async () => {
    const crl = await crlWith('tsa-compromised.crl', [
      { serialNumber: serial(pki.tsa.certificate), revocationDate: at(MINUTE), reason: 'keyCompromise' },
      { serialNumber: serial(pki.seal.certificate), revocationDate: at(2 * MINUTE), reason: 'superseded' },
    ]);
    const r = await verify('--crl', crl);
    const report = JSON.parse(r.stdout);
    expect(report).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'REVOKED_NO_POE' });
    expect(r.code).to.equal(2);
    expect(line(report, 'REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED_NO_POE' });
    expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED_NO_POE' });
  });

  it('REVOKED_NO_POE for a revoked sealing certificate on a proof without time-stamp (CAdES-B-B)', async () => {
    const crl = await crlWith('seal-b.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-5 * MINUTE), reason: 'superseded' }]);
    const r = await runCli('verify', [file('proof-b.p7s'), '--trust', file('root.pem'), '--json', '--crl', crl]);
    const report = JSON.parse(r.stdout);
    expect(report, r.stdout).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'REVOKED_NO_POE' });
    expect(line(report, 'REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED_NO_POE' });
    expect(line(report, 'REVOCATION').detail).to.match(/no valid time-stamp proves/);
    expect(line(report, 'TIMESTAMP_PRESENT')).to.deep.include({ passed: false, subIndication: 'TIMESTAMP_MISSING' });
    expect(line(report, 'TSA_REVOCATION')).to.equal(undefined);
  });

  it('a TSA certificate revoked after genTime without compromise keeps its earlier tokens (RFC 3161 §4); revoked before genTime it does not', async () => {
    const after = await crlWith('tsa-retired.crl', [{ serialNumber: serial(pki.tsa.certificate), revocationDate: at(MINUTE), reason: 'cessationOfOperation' }]);
    const before = await crlWith('tsa-before.crl', [{ serialNumber: serial(pki.tsa.certificate), revocationDate: at(-MINUTE), reason: 'cessationOfOperation' }]);
    const [a, b] = (await Promise.all([verify('--crl', after), verify('--crl', before)])).map((r) => JSON.parse(r.stdout));
    expect(a.indication).to.equal('TOTAL_PASSED');
    expect(line(a, 'TSA_REVOCATION').detail).to.match(/tokens made before remain valid/);
    expect(b).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
    expect(line(b, 'TSA_REVOCATION')).to.deep.include({ passed: false, subIndication: 'REVOKED' });
  });

  it('TRY_LATER when the CRL is past its nextUpdate at the validation time, or no CRL given is the issuer\'s', async () => {
    const stale = await crlWith('stale.crl', [], { thisUpdate: at(-2 * MINUTE), nextUpdate: at(-MINUTE) });
    const fresh = await crlWith('fresh.crl', [], { thisUpdate: new Date(), nextUpdate: new Date(Date.now() + 86_400_000) });
    const other = await createDevPki('ECDSA-P256');
    // Same issuer Name (every P-256 dev root has it), another key, and it lists our serial: not trusted.
    other.revoked = [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-5 * MINUTE), reason: 'keyCompromise' }];
    fs.writeFileSync(file('foreign.crl'), await issueDevCrl(other));
    const runs = await inBatches(
      [
        ['--crl', stale],
        ['--crl', fresh, '--at', new Date(Date.now() + 2 * 86_400_000).toISOString()],
        ['--crl', file('foreign.crl')],
      ],
      2,
      (args) => verify(...args),
    );
    for (const r of runs) {
      const report = JSON.parse(r.stdout);
      expect(report, r.stdout).to.deep.include({ indication: 'INDETERMINATE', subIndication: 'TRY_LATER' });
      expect(r.code).to.equal(2);
      expect(line(report, 'REVOCATION')).to.deep.include({ passed: false, subIndication: 'TRY_LATER' });
      expect(line(report, 'TSA_REVOCATION')).to.deep.include({ passed: false, subIndication: 'TRY_LATER' });
    }
    expect(line(JSON.parse(runs[0]!.stdout), 'REVOCATION').detail).to.match(/no fresh CRL/);
    expect(line(JSON.parse(runs[2]!.stdout), 'REVOCATION').detail).to.match(/no CRL given is signed by the issuer/);
  });

  it('several --crl: the revoking one counts whatever the order', async () => {
    const good = await crlWith('g.crl', []);
    const revoked = await crlWith('r.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-MINUTE) }]);
    const report = JSON.parse((await verify('--crl', good, '--crl', revoked)).stdout);
    expect(report.subIndication).to.equal('REVOKED');
    expect(line(report, 'REVOCATION').detail).to.match(/no reason given/);
  });

  it('--dir with --crl checks every proof against the CRLs', async () => {
    const crl = await crlWith('dir.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-MINUTE) }]);
    const r = await runCli('verify', ['--dir', file('bundle'), '--trust', file('root.pem'), '--crl', crl, '--json']);
    expect(r.code, r.stderr).to.equal(1);
    expect(JSON.parse(r.stdout.trim())).to.deep.include({ indication: 'TOTAL_FAILED', subIndication: 'REVOKED' });
  });

  it('refuses a --crl that is missing or not a CRL (exit 3, no stack)', async () => {
    fs.writeFileSync(file('not-a-crl.der'), Buffer.from('3003020101', 'hex'));
    const cases: Array<[string, RegExp]> = [
      [file('missing.crl'), /CRL .*missing\.crl: no such file/],
      [file('root.pem'), /CRL .*root\.pem: no "BEGIN X509 CRL" block/],
      [file('not-a-crl.der'), /CRL .*not-a-crl\.der: not an X\.509 CRL/],
      [file('proof.p7s'), /not an X\.509 CRL/],
    ];
    for (const [crl, message] of cases) {
      const r = await verify('--crl', crl);
      expect(r.code, r.stderr).to.equal(3);
      expect(r.stderr).to.match(message);
      expect(r.stderr).to.not.match(STACK);
      expect(r.stdout).to.equal('');
    }
  });

  it('names the revocation lines in the human report', async () => {
    const crl = await crlWith('human.crl', [{ serialNumber: serial(pki.seal.certificate), revocationDate: at(-MINUTE) }]);
    const r = await runCli('verify', [file('proof.p7s'), '--trust', file('root.pem'), '--crl', crl]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/FAIL REVOCATION\s+REVOKED/);
    expect(r.stdout).to.match(/ok {3}TSA_REVOCATION/);
  });
});
