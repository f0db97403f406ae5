/** The auditor CLIs' shared pieces: time parsing, exit codes, the worst indication, rendering. */
import { expect } from 'chai';
import { EXIT, exitCodeFor, parseTime, UsageError, worst } from '../../src/cli/report/exit.js';
import { colors, renderSummary } from '../../src/cli/report/render.js';
import { indicationOf } from '../../src/audit/verify.js';

describe('cli/report', () => {
  it('parses RFC 3339 times and dates as UTC, and refuses anything else as a usage error', () => {
    expect(parseTime('2026-11-22', '--at').toISOString()).to.equal('2026-11-22T00:00:00.000Z');
    expect(parseTime('2026-11-22T10:00:00Z', '--at').toISOString()).to.equal('2026-11-22T10:00:00.000Z');
    expect(parseTime('2026-11-22T10:00:00+02:00', '--at').toISOString()).to.equal('2026-11-22T08:00:00.000Z');
    expect(parseTime('2026-11-22T10:00', '--at').toISOString()).to.equal('2026-11-22T10:00:00.000Z');
    for (const bad of ['yesterday', '1700000000', '2026-13-01', '', '2026-11-22T25:00:00Z']) expect(() => parseTime(bad, '--at'), bad).to.throw(UsageError);
  });

  it('maps indications to exit codes, the worst of a batch deciding', () => {
    expect([exitCodeFor('TOTAL_PASSED'), exitCodeFor('TOTAL_FAILED'), exitCodeFor('INDETERMINATE')]).to.deep.equal([EXIT.PASSED, EXIT.FAILED, EXIT.INDETERMINATE]);
    expect(worst([])).to.equal('TOTAL_PASSED');
    expect(worst(['TOTAL_PASSED', 'INDETERMINATE', 'TOTAL_PASSED'])).to.equal('INDETERMINATE');
    expect(worst(['INDETERMINATE', 'TOTAL_FAILED', 'TOTAL_PASSED'])).to.equal('TOTAL_FAILED');
  });

  it('derives the indication as DSS does: a fatal failure wins over an earlier indeterminate one', () => {
    expect(indicationOf([{ name: 'SIGNATURE', passed: true, detail: '' }])).to.deep.equal({ indication: 'TOTAL_PASSED' });
    expect(
      indicationOf([
        { name: 'CERTIFICATE_CHAIN', passed: false, subIndication: 'NO_CERTIFICATE_CHAIN_FOUND', detail: '' },
        { name: 'DOCUMENT_DIGEST', passed: false, subIndication: 'HASH_FAILURE', detail: '' },
      ]),
    ).to.deep.equal({ indication: 'TOTAL_FAILED', subIndication: 'HASH_FAILURE' });
    expect(indicationOf([{ name: 'TIMESTAMP_ORDER', passed: false, subIndication: 'TIMESTAMP_ORDER_FAILURE', detail: '' }])).to.deep.equal({ indication: 'INDETERMINATE', subIndication: 'TIMESTAMP_ORDER_FAILURE' });
  });

  it('renders the batch summary as a table, lists what did not pass and caps the list', () => {
    const notPassed = Array.from({ length: 3 }, (_, i) => ({ file: `p${i}.p7s`, indication: 'TOTAL_FAILED' as const, subIndication: 'HASH_FAILURE' as const, checks: [{ name: 'MESSAGE_DIGEST' as const, passed: false, subIndication: 'HASH_FAILURE' as const, detail: 'differs' }] }));
    const text = renderSummary(colors(false), { total: 10, seconds: 2, workers: 2, pool: 'process', counts: new Map([['TOTAL_PASSED', 7], ['TOTAL_FAILED/HASH_FAILURE', 3]]), notPassed }, 2);
    expect(text).to.contain('Verified 10 proofs in 2.00 s (5.0 proofs/s, 2 worker processes)');
    expect(text).to.match(/^ {2}TOTAL_PASSED +7$/m);
    expect(text).to.match(/^ {2}TOTAL_FAILED {2}HASH_FAILURE +3$/m);
    expect(text).to.contain('MESSAGE_DIGEST: differs');
    expect(text).to.contain('… and 1 more');
  });
});
