/**
 * The operator's view of the job queue (GET /v1/admin/jobs, POST /v1/admin/jobs/{id}/retry):
 * jobs by status, and a dead letter put back in the queue.
 */
import { ServiceError } from '../domain/errors.js';
import { JOB_STATUSES, type JobState, type JobStatus } from '../store/JobRepository.js';

export { JOB_STATUSES };
import type { Repositories } from '../store/Repositories.js';

/** A job as the operator lists it. */
export type JobSummary = Pick<JobState, 'id' | 'messageId' | 'status' | 'attempts' | 'maxAttempts' | 'runAt' | 'lastError'> & { type: string };

export class JobAdmin {
  constructor(private readonly store: Repositories) {}

  /** The first 500 jobs, oldest first, of one status or of all. */
  async list(status?: string): Promise<JobSummary[]> {
    if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) throw new ServiceError('QUERY_INVALID', 'status must be pending, running, done or dead');
    const jobs = await this.store.jobs.list({ status: status as JobStatus | undefined, limit: 500 });
    return jobs.map((j) => ({ id: j.id, type: j.type, messageId: j.messageId, status: j.status, attempts: j.attempts, maxAttempts: j.maxAttempts, runAt: j.runAt, lastError: j.lastError }));
  }

  /** Puts dead job `id` back in the queue with its attempts reset; NOT_FOUND when there is no such dead job. */
  async retry(rawId: string): Promise<void> {
    const id = Number(rawId);
    const ok = Number.isSafeInteger(id) && (await this.store.jobs.retryDead(id));
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such dead job');
  }
}
