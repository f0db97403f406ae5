/**
 * verifyExportedLog with evidence records of the checkpoint tokens: a checkpoint whose TSA
 * certificate expired in 2031 pins its row at 2035 when its record (time-stamped in 2026,
 * renewed in 2030) is beside the token or named in checkpoints.json; a record of another
 * token is named (LEAF_DIGEST) after the token's own failure.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { verifyExportedLog } from '../../src/audit/log.js';
import type { DevPki } from '../../src/crypto/index.js';
import { checkpointImprintData, eventHash, GENESIS_HASH } from '../../src/domain/EventChain.js';
import { pkiAt, recordsFor, stamperAt } from '../helpers/records.js';

describe('audit/log: checkpoints with evidence records', function () {
  this.timeout(60_000);
  let a: DevPki;
  let b: DevPki;
  let dir: string;
  let tokens: Uint8Array[];
  let records: Uint8Array[];
  const at = new Date('2035-01-01T00:00:00Z');
  const checkpoint = (r: any, seq: number) => r.checks.find((c: any) => c.name === 'CHECKPOINT' && c.seq === seq);

  before(async () => {
    [a, b] = await Promise.all([pkiAt('2021-06-01T00:00:00Z'), pkiAt('2029-01-01T00:00:00Z')]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-log-ers-'));
    const rows: any[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 20; seq++) {
      const e = { seq, messageId: `m-${seq % 3}`, type: 'ContentConsignment', at: new Date(Date.UTC(2026, 5, 1, 9, 0, seq)).toISOString(), data: { evidenceId: `e-${seq}` } };
      const hash = eventHash(prev, e);
      rows.push({ ...e, prevHash: prev, hash });
      prev = hash;
    }
    fs.mkdirSync(path.join(dir, 'log/checkpoints'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'log/events.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const stamper = stamperAt(a.tsa, '2026-06-01T10:00:00Z');
    tokens = [];
    for (const seq of [10, 20]) {
      const token = await stamper.timestamp(checkpointImprintData(seq, rows[seq - 1].hash));
      tokens.push(token);
      fs.writeFileSync(path.join(dir, `log/checkpoints/${seq}.tst`), token);
    }
    records = (await recordsFor(tokens, { tsa: a.tsa, at: '2026-06-01T12:00:00Z' }, [{ tsa: b.tsa, at: '2030-06-01T00:00:00Z' }]))[1]!;
    fs.writeFileSync(
      path.join(dir, 'log/checkpoints.json'),
      JSON.stringify([10, 20].map((seq) => ({ eventSeq: seq, headHash: rows[seq - 1].hash, genTime: '2026-06-01T10:00:00.000Z', token: `log/checkpoints/${seq}.tst` }))),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const anchors = () => [a.root.certificate, b.root.certificate];

  it('without records the checkpoints do not hold at 2035 (their TSA certificate expired in 2031)', async () => {
    const r = await verifyExportedLog(dir, { trustAnchors: anchors(), at });
    expect(r.indication).to.equal('INDETERMINATE');
    expect(checkpoint(r, 20)).to.deep.include({ passed: false, subIndication: 'OUT_OF_BOUNDS_NO_POE' });
  });

  it('with each token\'s record beside it, or named by checkpoints.json, they hold by the POE', async () => {
    fs.writeFileSync(path.join(dir, 'log/checkpoints/10.ers'), records[0]!);
    fs.writeFileSync(path.join(dir, 'log/checkpoints/record-20.ers'), records[1]!);
    const list = JSON.parse(fs.readFileSync(path.join(dir, 'log/checkpoints.json'), 'utf8'));
    list[1].record = 'log/checkpoints/record-20.ers';
    fs.writeFileSync(path.join(dir, 'log/checkpoints.json'), JSON.stringify(list));
    const r = await verifyExportedLog(dir, { trustAnchors: anchors(), at });
    expect(r.indication, JSON.stringify(r.checks.filter((c) => !c.passed))).to.equal('TOTAL_PASSED');
    expect(checkpoint(r, 10).detail).to.match(/evidence record log\/checkpoints\/10\.ers proves the token existed at 2026-06-01T12:00:00\.000Z, and the token is validated at that time/);
    expect(checkpoint(r, 20).detail).to.contain('record-20.ers');
  });

  it('a record of another token: CHECKPOINT keeps the token\'s own failure (expired), naming the record\'s LEAF_DIGEST', async () => {
    fs.writeFileSync(path.join(dir, 'log/checkpoints/10.ers'), (await recordsFor([tokens[1]!], { tsa: b.tsa, at: '2030-01-01T00:00:00Z' }))[0]![0]!);
    const r = await verifyExportedLog(dir, { trustAnchors: anchors(), at });
    expect(checkpoint(r, 10)).to.deep.include({ passed: false, subIndication: 'OUT_OF_BOUNDS_NO_POE' });
    expect(checkpoint(r, 10).detail).to.match(/evidence record log\/checkpoints\/10\.ers: LEAF_DIGEST: /);
    expect(r.indication).to.equal('INDETERMINATE');
  });
});
