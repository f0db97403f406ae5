/**
 * verifyExportedLog on slices built here (no service): a long log streamed across read
 * chunks, redacted rows, the genesis start, checkpoint tokens from the built-in TSA, and
 * hostile files (an over-long line, a row of the wrong shape, a token that is random bytes).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { createDevPki, LocalTimeStamper, TimeStampAuthority, type DevPki } from '../../src/crypto/index.js';
import { checkpointImprintData, eventHash, GENESIS_HASH } from '../../src/domain/EventChain.js';
import { verifyExportedLog } from '../../src/audit/log.js';

describe('audit/log: verifyExportedLog', function () {
  this.timeout(60_000);
  let pki: DevPki;
  let stamper: LocalTimeStamper;
  let dir: string;
  let rows: any[];

  /** A slice of `n` rows from the genesis row, every third row redacted, checkpoints at `pins`. */
  async function writeSlice(target: string, n: number, pins: number[]): Promise<void> {
    rows = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const e = { seq, messageId: `m-${seq % 7}`, type: 'ContentConsignment', at: new Date(1_700_000_000_000 + seq).toISOString(), data: { evidenceId: `e-${seq}`, status: 'DEPOSITED', note: 'x'.repeat(seq % 50) } };
      const hash = eventHash(prev, e);
      rows.push(seq % 3 === 0 ? { seq, prevHash: prev, hash, redacted: true } : { ...e, prevHash: prev, hash });
      prev = hash;
    }
    fs.mkdirSync(path.join(target, 'log/checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(target, 'log/events.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const list = [];
    for (const seq of pins) {
      const token = await stamper.timestamp(checkpointImprintData(seq, rows[seq - 1].hash));
      fs.writeFileSync(path.join(target, `log/checkpoints/${seq}.tst`), token);
      list.push({ eventSeq: seq, headHash: rows[seq - 1].hash, genTime: new Date().toISOString(), token: `log/checkpoints/${seq}.tst` });
    }
    fs.writeFileSync(path.join(target, 'log/checkpoints.json'), JSON.stringify(list));
  }

  before(async () => {
    pki = await createDevPki('ECDSA-P256');
    stamper = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: '1.2.3.4.5' }));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-log-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('passes 30 000 rows (several read chunks) from the genesis row to a checkpointed head', async () => {
    await writeSlice(dir, 30_000, [10_000, 30_000]);
    expect(fs.statSync(path.join(dir, 'log/events.jsonl')).size).to.be.above(3 << 20);
    const r = await verifyExportedLog(dir, { trustAnchors: [pki.root.certificate] });
    expect(r.indication, JSON.stringify(r.checks.filter((c) => !c.passed))).to.equal('TOTAL_PASSED');
    expect(r).to.include({ rows: 30_000, redactedRows: 10_000, fromSeq: 1, toSeq: 30_000, checkpoints: 2 });
    expect(r.checks.find((c) => c.name === 'LOG_START')!.detail).to.contain('genesis');
  });

  it('names the first altered row, with its line', async () => {
    const t = fs.mkdtempSync(path.join(dir, 'altered-'));
    await writeSlice(t, 2000, [2000]);
    rows[1233].data.status = 'CONSULTED';
    fs.writeFileSync(path.join(t, 'log/events.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await verifyExportedLog(t, { trustAnchors: [pki.root.certificate] });
    expect(r).to.include({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(r.firstBreak).to.include({ seq: 1234, line: 1234 });
  });

  it('a missing row is a gap named by the row after it', async () => {
    const t = fs.mkdtempSync(path.join(dir, 'gap-'));
    await writeSlice(t, 100, [100]);
    fs.writeFileSync(path.join(t, 'log/events.jsonl'), rows.filter((r) => r.seq !== 40).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await verifyExportedLog(t, { trustAnchors: [pki.root.certificate] });
    expect(r.firstBreak!.seq).to.equal(41);
    expect(r.firstBreak!.detail).to.contain('rows 40..40 are missing');
  });

  it('refuses an over-long line, a row of the wrong shape and a random-bytes token without throwing', async () => {
    const t = fs.mkdtempSync(path.join(dir, 'hostile-'));
    await writeSlice(t, 10, [10]);
    fs.writeFileSync(path.join(t, 'log/events.jsonl'), JSON.stringify(rows[0]) + '\n' + '{"seq":2,"x":"' + 'A'.repeat(3 << 20) + '"}\n');
    const long = await verifyExportedLog(t, { trustAnchors: [pki.root.certificate] });
    expect(long).to.include({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(long.checks[0]!.detail).to.match(/^line 2 is \d+ characters long/);

    fs.writeFileSync(path.join(t, 'log/events.jsonl'), rows.map((r, i) => (i === 4 ? JSON.stringify({ ...r, redacted: true }) : JSON.stringify(r))).join('\n') + '\n');
    const shape = await verifyExportedLog(t, { trustAnchors: [pki.root.certificate] });
    expect(shape.checks[0]!.detail).to.contain('a redacted row carries only seq, prevHash and hash');

    await writeSlice(t, 10, [10]);
    fs.writeFileSync(path.join(t, 'log/checkpoints/10.tst'), new Uint8Array(300).fill(0x30));
    const token = await verifyExportedLog(t, { trustAnchors: [pki.root.certificate] });
    expect(token).to.include({ indication: 'TOTAL_FAILED', subIndication: 'FORMAT_FAILURE' });
    expect(token.checks.find((c) => c.name === 'LOG_HEAD')).to.include({ passed: false, subIndication: 'NO_POE' });
  });
});
