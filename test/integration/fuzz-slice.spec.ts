/**
 * The slice of `npm run test:fuzz` that `npm test` runs: 500 cases of a fixed seed and 500 of
 * a seed drawn for this run (printed in the test's title; FUZZ_SLICE_SEED sets it), against
 * the service as a real process, with the full run's bar (test/fuzz/runner.ts). A failing
 * case is replayed with `npm run test:fuzz -- --seed <seed> --case <index>`.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { FAMILIES, generateCase, type FuzzContext } from '../fuzz/generator.js';
import { formatReport, runFuzz } from '../fuzz/runner.js';
import { onPostgres } from '../helpers/database.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';

const FIXED_SEED = 'fuzz-slice-1';
const ROTATING_SEED = process.env.FUZZ_SLICE_SEED ?? randomBytes(4).toString('hex');
const CASES_PER_SEED = 500;

describe(`fuzz slice (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(300_000);

  it('case N of a seed is the same bytes whatever was generated before it, and every family is drawn', () => {
    const ctx: FuzzContext = {
      authority: '127.0.0.1:1',
      doc: JSON.parse(JSON.stringify(openApiDocument(loadConfig({ APP_ENV: 'test' })))),
      credentials: { sender: 'rmk_a', otherSender: 'rmk_b', recipient: 'rbx_c', admin: 'admin-token-0123456789', metrics: 'metrics-token-0123456789' },
      ids: {
        messageId: '11111111-1111-4111-8111-111111111111',
        evidenceId: '22222222-2222-4222-8222-222222222222',
        eboxMessageId: '33333333-3333-4333-8333-333333333333',
        notificationId: '44444444-4444-4444-8444-444444444444',
        victimSenderId: '55555555-5555-4555-8555-555555555555',
        victimCredentialId: '66666666-6666-4666-8666-666666666666',
        victimRecipientId: '17073003384',
        recipientId: '85073003328',
      },
      deviceJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' },
    };
    const bytes = (i: number) => Buffer.concat(generateCase(ctx, FIXED_SEED, i).exchange.chunks).toString('hex');
    const forward = Array.from({ length: 50 }, (_, i) => bytes(i));
    const backward = Array.from({ length: 50 }, (_, i) => bytes(49 - i)).reverse();
    expect(backward).to.deep.equal(forward);
    expect(new Set(forward).size).to.equal(50);
    const families = new Set(Array.from({ length: CASES_PER_SEED }, (_, i) => generateCase(ctx, FIXED_SEED, i).family));
    expect([...families].sort()).to.deep.equal(FAMILIES.map(([, f]) => f).sort());
  });

  it(`${2 * CASES_PER_SEED} hostile requests (seeds ${FIXED_SEED} and ${ROTATING_SEED}): no 5xx, no exit, no stack trace, nothing left behind`, async () => {
    const indices = Array.from({ length: CASES_PER_SEED }, (_, i) => i);
    const report = await runFuzz({
      plans: [
        { seed: FIXED_SEED, indices },
        { seed: ROTATING_SEED, indices },
      ],
      certsDir: TEST_CERTS_DIR,
      concurrency: 8,
    });
    const text = formatReport(report);
    console.log(text.replace(/^/gm, '      '));
    expect(report.cases).to.equal(2 * CASES_PER_SEED);
    // the slice reaches the code behind authentication: messages were accepted, others refused
    expect(report.messages.answered, text).to.be.greaterThan(10);
    expect(Object.keys(report.byStatus).filter((s) => /^4\d\d$/.test(s)).length, text).to.be.greaterThan(5);
    expect(report.breaches, text).to.deep.equal([]);
  });
});
