import { expect } from 'chai';
import { EVIDENCE_TYPES } from '../../src/domain/EvidenceStatement.js';
import { canIssue, IllegalTransitionError, mayHaveEvidence, nextStatus } from '../../src/domain/MessageLifecycle.js';
import { MESSAGE_STATUSES } from '../../src/domain/status.js';
import { backoffDelay } from '../../src/worker/backoff.js';

describe('message state machine', () => {
  const legal: Array<[string, string, string]> = [
    ['RECEIVED', 'SubmissionAcceptance', 'ACCEPTED'],
    ['RECEIVED', 'SubmissionRejection', 'REJECTED'],
    ['ACCEPTED', 'ContentConsignment', 'DEPOSITED'],
    ['ACCEPTED', 'ContentConsignmentFailure', 'FAILED'],
    ['DEPOSITED', 'ContentHandover', 'CONSULTED'],
    ['DEPOSITED', 'ContentHandoverFailure', 'EXPIRED'],
    ['DEPOSITED', 'NotificationForAcceptance', 'DEPOSITED'],
    ['CONSULTED', 'NotificationForAcceptance', 'CONSULTED'],
    ['EXPIRED', 'NotificationForAcceptance', 'EXPIRED'],
  ];

  it('a RECEIVED message has no evidence: every proof it can receive moves it out of RECEIVED', () => {
    for (const type of EVIDENCE_TYPES) if (canIssue('RECEIVED', type)) expect(nextStatus('RECEIVED', type), type).to.not.equal('RECEIVED');
    expect(EVIDENCE_TYPES.filter((t) => canIssue('RECEIVED', t))).to.not.deep.equal([]);
    expect(mayHaveEvidence('RECEIVED')).to.equal(false);
    for (const status of MESSAGE_STATUSES.filter((s) => s !== 'RECEIVED')) expect(mayHaveEvidence(status), status).to.equal(true);
  });

  it('follows the evidence: each legal transition gives its status', () => {
    for (const [from, evidence, to] of legal) expect(nextStatus(from as any, evidence as any), `${from} + ${evidence}`).to.equal(to);
  });

  it('refuses every other combination', () => {
    const allowed = new Set(legal.map(([f, e]) => `${f}|${e}`));
    let refused = 0;
    for (const status of MESSAGE_STATUSES) {
      for (const evidence of EVIDENCE_TYPES) {
        if (allowed.has(`${status}|${evidence}`)) continue;
        expect(() => nextStatus(status, evidence), `${status} + ${evidence}`).to.throw(IllegalTransitionError);
        expect(canIssue(status, evidence)).to.equal(false);
        refused++;
      }
    }
    expect(refused).to.equal(MESSAGE_STATUSES.length * EVIDENCE_TYPES.length - legal.length);
  });

  it('never leaves a final status', () => {
    for (const final of ['REJECTED', 'FAILED', 'CONSULTED', 'EXPIRED'] as const) {
      for (const evidence of EVIDENCE_TYPES) {
        if (canIssue(final, evidence)) expect(nextStatus(final, evidence)).to.equal(final);
      }
    }
  });
});

describe('backoff with full jitter', () => {
  const policy = { baseMs: 100, maxMs: 5000 };
  it('doubles per attempt between half and all of the ceiling, capped', () => {
    expect(backoffDelay(1, policy, () => 0)).to.equal(50);
    expect(backoffDelay(1, policy, () => 1)).to.equal(100);
    expect(backoffDelay(4, policy, () => 0)).to.equal(400);
    expect(backoffDelay(4, policy, () => 1)).to.equal(800);
    expect(backoffDelay(30, policy, () => 1)).to.equal(5000);
    expect(backoffDelay(30, policy, () => 0)).to.equal(2500);
  });
});
