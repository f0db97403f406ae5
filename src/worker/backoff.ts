/**
 * Exponential backoff with full jitter: attempt n waits a random time in
 * [base·2^(n−1)/2, base·2^(n−1)], capped at `maxMs`.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Retries that fit in a time window (a periodic job's slot): the wait between attempts is
 * capped at a quarter of the window, and there are as many attempts as the longest waits
 * of that capped policy leave room for, so that a job's retries never outlive its slot.
 */
export function retryBudget(windowMs: number, policy: BackoffPolicy): { maxAttempts: number; maxBackoffMs: number } {
  const maxBackoffMs = Math.max(1, Math.min(policy.maxMs, Math.floor(windowMs / 4)));
  const capped = { baseMs: policy.baseMs, maxMs: maxBackoffMs };
  let attempts = 1;
  let elapsed = 0;
  for (;;) {
    elapsed += backoffDelay(attempts, capped, () => 1); // the longest wait before the next attempt
    if (elapsed > windowMs) break;
    attempts++;
  }
  return { maxAttempts: attempts, maxBackoffMs };
}
