/**
 * Notification statuses. A notification is sent by one or more attempts, one per channel
 * (GovApp push, SMS); each attempt moves forward only:
 *
 *   QUEUED ──▶ SENT ──▶ DELIVERED ──▶ READ          (READ: the app acknowledged reception)
 *     │          │
 *     └──────────┴──▶ FAILED (reason)   or   FALLBACK (reason: given up for another channel)
 *
 * Reports that arrive late or out of order never move an attempt back (an SMS "accepted by
 * the SMSC" report after its "delivered" report changes nothing); FAILED and FALLBACK are
 * final, and a failure report after DELIVERED is ignored.
 *
 * A SENT attempt can also become FALLBACK when its strategy gives up waiting for its
 * delivery (a push not delivered in time: PUSH_NOT_DELIVERED). A delivery or read report
 * that comes after that does not undo the fallback: the attempt stays FALLBACK, records
 * when it was delivered or read, and its history says so.
 *
 * The notification's own status follows from its attempts: the furthest status of the
 * attempts still alive; FALLBACK while the channel fallen back to is still queued (so a
 * push SENT and then given up shows SENT → FALLBACK → SENT once the SMS is out); FAILED
 * when every attempt failed.
 *
 * When to send. A notification given a `sendAt` in the future starts SCHEDULED (no attempt
 * yet) and becomes QUEUED when its dispatch job runs at `sendAt`:
 *
 *   SCHEDULED ──▶ QUEUED ──▶ … as above
 *       │           │
 *       └───────────┴──▶ CANCELLED (the sender's DELETE)   or   EXPIRED (VALIDITY_ELAPSED)
 *
 * An attempt not yet handed to a provider (QUEUED, also while it is deferred to the end of
 * the sender's quiet hours) can become CANCELLED or EXPIRED; both are final. Once any
 * attempt was handed to a provider the notification can no longer be cancelled; expiry
 * then only stops the attempts that were not (e.g. an SMS fallback after a push). With no
 * attempt alive, the notification is EXPIRED if one attempt expired, else CANCELLED if one
 * was cancelled, else FAILED.
 */

export const NOTIFICATION_STATUSES = ['SCHEDULED', 'QUEUED', 'FALLBACK', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'CANCELLED', 'EXPIRED'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const ATTEMPT_STATUSES = ['QUEUED', 'SENT', 'DELIVERED', 'READ', 'FAILED', 'FALLBACK', 'CANCELLED', 'EXPIRED'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** What a provider or a receipt can report about an attempt. */
export type AttemptEvent = 'SENT' | 'DELIVERED' | 'READ' | 'FAILED';

const RANK: Record<'QUEUED' | 'SENT' | 'DELIVERED' | 'READ', number> = { QUEUED: 0, SENT: 1, DELIVERED: 2, READ: 3 };

export function isFinalAttempt(s: AttemptStatus): boolean {
  return s === 'FAILED' || s === 'FALLBACK' || s === 'CANCELLED' || s === 'EXPIRED';
}

/** Final statuses of a notification: nothing more is sent for it. */
export function isFinalNotification(s: NotificationStatus): boolean {
  return s === 'FAILED' || s === 'CANCELLED' || s === 'EXPIRED';
}

/** The attempt's status after `event`, or undefined when the event changes nothing. */
export function advanceAttempt(current: AttemptStatus, event: AttemptEvent): AttemptStatus | undefined {
  if (isFinalAttempt(current)) return undefined;
  const rank = RANK[current as keyof typeof RANK];
  if (event === 'FAILED') return rank <= RANK.SENT ? 'FAILED' : undefined;
  return RANK[event] > rank ? event : undefined;
}

/** The notification's status from its attempts' statuses. */
export function overallStatus(attempts: ReadonlyArray<{ status: AttemptStatus }>): NotificationStatus {
  if (attempts.length === 0) return 'QUEUED';
  const alive = attempts.filter((a) => !isFinalAttempt(a.status));
  if (alive.length === 0) {
    if (attempts.some((a) => a.status === 'EXPIRED')) return 'EXPIRED';
    if (attempts.some((a) => a.status === 'CANCELLED')) return 'CANCELLED';
    return 'FAILED';
  }
  let best: keyof typeof RANK = 'QUEUED';
  for (const a of alive) if (RANK[a.status as keyof typeof RANK] > RANK[best]) best = a.status as keyof typeof RANK;
  if (best === 'QUEUED' && attempts.some((a) => a.status === 'FALLBACK')) return 'FALLBACK';
  return best;
}

/** Statuses after which a synchronous caller stops waiting. */
export function isSettled(s: NotificationStatus): boolean {
  return s !== 'QUEUED' && s !== 'FALLBACK' && s !== 'SCHEDULED';
}

/** Reaching SENT (or beyond) means the recipient was told: NotificationForAcceptance. */
export function hasBeenSent(s: NotificationStatus): boolean {
  return s === 'SENT' || s === 'DELIVERED' || s === 'READ';
}

/**
 * Stable reason codes for FAILED and FALLBACK (the `reason` of attempts and notifications).
 */
export const REASONS = {
  APP_NOT_INSTALLED: 'the recipient has no GovApp installation',
  APP_NOTIFICATIONS_OFF: 'the recipient turned GovApp notifications off on every device',
  NO_PHONE_NUMBER: 'no mobile number is known for the recipient',
  PHONE_NUMBER_INVALID: 'the mobile number is not a valid E.164 mobile number',
  PROVIDER_NOT_CONFIGURED: 'no provider is configured for this channel',
  PROVIDER_UNAVAILABLE: 'the provider kept failing until the retry budget was spent',
  PROVIDER_REJECTED: 'the provider refused the message for good',
  PUSH_REJECTED: 'the push backend refused every device',
  PUSH_NOT_DELIVERED: 'the push backend accepted the push but no device reported it delivered in time',
  SMS_TOO_LONG: 'the text needs more SMS parts than allowed',
  SMS_REJECTED: 'the SMS centre rejected the message',
  SMS_UNDELIVERABLE: 'the SMS centre could not deliver the message',
  RECIPIENT_OPTED_OUT: 'the number answered STOP to this sender (or STOP ALL): no SMS goes to it',
  CONTENT_MISSING: 'the notification has no text for this channel',
  STRATEGY_UNKNOWN: 'the strategy is not registered',
  VALIDITY_ELAPSED: 'the notification was not handed to a provider before its validUntil',
  CANCELLED_BY_SENDER: 'the sender cancelled the notification before it was handed to a provider',
} as const;
export type ReasonCode = keyof typeof REASONS;
