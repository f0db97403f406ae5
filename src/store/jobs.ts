/**
 * The service's jobs: each type's name (as stored in `jobs.type`) and the shape of its
 * payload (the JSON in `jobs.payload`), in one place. `tx.jobs.enqueue` accepts only these
 * pairs; a handler for type T receives `JobRecord<T>`; the runner reads each payload with
 * its type's reader before the handler sees it, and a payload that does not fit makes the
 * job a dead letter (JobRunner). See docs/jobs.md.
 *
 * Jobs outlive the code that wrote them: a name never changes, and a shape only grows
 * optional fields (a job enqueued by an earlier version must still run).
 */
import { EVIDENCE_TYPES } from '../domain/EvidenceStatement.js';
import { MESSAGE_STATUSES } from '../domain/status.js';
import type { JobOf, JobType as TypeOf } from './JobRepository.js';
import { integer, listOf, oneOf, optional, shape, text, type PayloadOf, type PayloadReader } from './payload.js';

/** a job about one registered message */
const aboutMessage = shape({ messageId: text });

/** a periodic job: its time slot (epoch ms / period) and period; jobs of earlier versions have no period */
const periodic = shape({ slot: integer, intervalMs: optional(integer) });

/** The reader of every job type's payload, by type name. */
export const JOB_PAYLOADS = {
  /** registered-mail/delivery: recipient reachable? → SubmissionAcceptance | SubmissionRejection */
  accept: aboutMessage,
  /** registered-mail/delivery: the e-Box deposit → ContentConsignment */
  deposit: aboutMessage,
  /** registered-mail/delivery: one evidence of a given type, for a fact found elsewhere */
  seal: shape({
    messageId: text,
    type: oneOf(EVIDENCE_TYPES),
    /** when the fact took place (ISO 8601) */
    eventTime: text,
    reasons: optional(listOf(shape({ Code: text, Details: optional(text) }))),
  }),
  /** registered-mail/webhooks: one status change POSTed to the sender */
  webhook: shape({
    senderId: text,
    messageId: text,
    status: oneOf(MESSAGE_STATUSES),
    evidenceId: text,
    evidenceType: oneOf(EVIDENCE_TYPES),
    at: text,
  }),
  /** registered-mail/maintenance (periodic) */
  'expiry-scan': periodic,
  'ebox-poll': periodic,
  retention: periodic,
  checkpoint: periodic,
  'evidence-records': periodic,
  'record-renewal': periodic,
  /** notifications/engine */
  'notify.dispatch': shape({ notificationId: text }),
  'notify.send': shape({ attemptId: text }),
  /** a push accepted but not reported DELIVERED in time: the strategy's fallback (delayed job) */
  'notify.delivery-check': shape({ attemptId: text }),
  'notify.evidence': shape({ notificationId: text }),
  /** the notification's validUntil: what was not handed to a provider by then is EXPIRED (delayed job) */
  'notify.expire': shape({ notificationId: text }),
  'notify.registered': aboutMessage,
} satisfies Record<string, PayloadReader<object>>;

/** Job type name → payload. */
export type Jobs = { [T in keyof typeof JOB_PAYLOADS]: PayloadOf<(typeof JOB_PAYLOADS)[T]> };

export type JobType = TypeOf<Jobs>;

/** A job of type T (any of the service's types by default: a union on `type`), its payload read for its type. */
export type JobRecord<T extends JobType = JobType> = T extends JobType ? JobOf<Jobs, T> : never;

export type JobPayload<T extends JobType> = Jobs[T];

export type SealJobPayload = Jobs['seal'];
export type WebhookJobPayload = Jobs['webhook'];
export type PeriodicJobPayload = Jobs['expiry-scan'];
