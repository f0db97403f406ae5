/** Backoff, and the retry budget of work bound to a time slot (src/worker/backoff.ts). */
import { expect } from 'chai';
import { backoffDelay, retryBudget } from '../../src/worker/backoff.js';

describe('backoff', () => {
  it('waits between half and all of base·2^(n−1), capped', () => {
    const policy = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 1))).to.deep.equal([100, 200, 400, 800, 1000]);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0))).to.deep.equal([50, 100, 200, 400, 500]);
  });

  describe('retries within a time slot', () => {
    const cases: Array<[number, { baseMs: number; maxMs: number }]> = [
      [10_000, { baseMs: 1000, maxMs: 300_000 }], // MAINTENANCE_INTERVAL_MS default
      [300_000, { baseMs: 1000, maxMs: 300_000 }], // CHECKPOINT_INTERVAL_MS default
      [1000, { baseMs: 20, maxMs: 200 }],
      [10, { baseMs: 1000, maxMs: 300_000 }],
      [86_400_000, { baseMs: 1, maxMs: 86_400_000 }],
    ];
    for (const [windowMs, policy] of cases) {
      it(`a ${windowMs} ms slot, base ${policy.baseMs} ms: as many attempts as the longest waits fit, each wait at most a quarter of it`, () => {
        const { maxAttempts, maxBackoffMs } = retryBudget(windowMs, policy);
        expect(maxBackoffMs).to.be.at.most(Math.max(1, windowMs / 4)).and.at.most(policy.maxMs);
        const capped = { baseMs: policy.baseMs, maxMs: maxBackoffMs };
        const longest = (n: number) => Array.from({ length: n }, (_, i) => backoffDelay(i + 1, capped, () => 1)).reduce((a, b) => a + b, 0);
        expect(maxAttempts).to.be.at.least(2);
        expect(longest(maxAttempts - 1), 'the retries fit').to.be.at.most(windowMs);
        expect(longest(maxAttempts), 'one more would not').to.be.above(windowMs);
      });
    }
  });
});
