/**
 * The message state machine. Statuses follow from the evidence issued (ETSI EN 319 522-1):
 *
 *   RECEIVED ──SubmissionAcceptance──▶ ACCEPTED ──ContentConsignment──▶ DEPOSITED ──ContentHandover──▶ CONSULTED
 *      │                                  │                                │
 *      └──SubmissionRejection──▶ REJECTED └──ContentConsignmentFailure──▶ FAILED
 *                                                                          └──ContentHandoverFailure──▶ EXPIRED
 *
 * NotificationForAcceptance records that the recipient was told; it does not change the status.
 */
import type { EvidenceType } from './EvidenceStatement.js';
import type { MessageStatus } from './status.js';

const TRANSITIONS: Record<Exclude<EvidenceType, 'NotificationForAcceptance'>, { from: MessageStatus; to: MessageStatus }> = {
  SubmissionAcceptance: { from: 'RECEIVED', to: 'ACCEPTED' },
  SubmissionRejection: { from: 'RECEIVED', to: 'REJECTED' },
  ContentConsignment: { from: 'ACCEPTED', to: 'DEPOSITED' },
  ContentConsignmentFailure: { from: 'ACCEPTED', to: 'FAILED' },
  ContentHandover: { from: 'DEPOSITED', to: 'CONSULTED' },
  ContentHandoverFailure: { from: 'DEPOSITED', to: 'EXPIRED' },
};

export const FINAL_STATUSES: readonly MessageStatus[] = ['REJECTED', 'FAILED', 'CONSULTED', 'EXPIRED'];

export class IllegalTransitionError extends Error {
  constructor(
    readonly status: MessageStatus,
    readonly evidence: EvidenceType,
  ) {
    super(`a message in status ${status} cannot receive ${evidence} evidence`);
    this.name = 'IllegalTransitionError';
  }
}

/** The status after `evidence`, or an IllegalTransitionError. */
export function nextStatus(current: MessageStatus, evidence: EvidenceType): MessageStatus {
  if (evidence === 'NotificationForAcceptance') {
    if (current === 'DEPOSITED' || current === 'CONSULTED' || current === 'EXPIRED') return current;
    throw new IllegalTransitionError(current, evidence);
  }
  const t = TRANSITIONS[evidence];
  if (t.from !== current) throw new IllegalTransitionError(current, evidence);
  return t.to;
}

/**
 * Whether a message in this status may already have evidence. Every proof is recorded with
 * the status change it brings, in one transaction, and every proof a RECEIVED message can
 * receive moves it out of RECEIVED: a RECEIVED message has none yet.
 */
export function mayHaveEvidence(current: MessageStatus): boolean {
  return current !== 'RECEIVED';
}

export function canIssue(current: MessageStatus, evidence: EvidenceType): boolean {
  try {
    nextStatus(current, evidence);
    return true;
  } catch {
    return false;
  }
}
