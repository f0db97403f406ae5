/**
 * Prometheus metrics (prom-client): job queue by type and status (dead letters
 * included), messages by status, documents missing from the blob store, proofs waiting for
 * their evidence record, plus the default
 * process metrics (and the refused credentials, counted by AuthGuard).
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** What the gauges count, read when /metrics is scraped (the repositories have this shape). */
export interface MetricsCounts {
  jobs: { counts(): Promise<Array<{ type: string; status: string; count: number }>> };
  messages: { countByStatus(): Promise<Array<{ status: string; count: number }>> };
}

export interface MetricsSources {
  /** documents whose bytes the last blob sweep found missing (an alarm) */
  missingDocuments?: () => number;
  /** proofs and checkpoints in no time-stamped RFC 4998 tree yet (growing: the TSA does not answer the records job) */
  recordsPending?: () => Promise<number>;
}

export function createMetrics(store: MetricsCounts, sources: MetricsSources = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'registered_mail_jobs',
    help: 'Jobs in the outbox by type and status (status="dead" are dead letters)',
    labelNames: ['type', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await store.jobs.counts()) this.set({ type: c.type, status: c.status }, c.count);
    },
  });
  new Gauge({
    name: 'registered_mail_messages',
    help: 'Messages by status',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await store.messages.countByStatus()) this.set({ status: c.status }, c.count);
    },
  });
  const missing = sources.missingDocuments;
  if (missing) {
    new Gauge({
      name: 'registered_mail_documents_missing',
      help: 'Documents of messages not purged whose bytes the blob sweep at start did not find (an alarm: restore them)',
      registers: [registry],
      collect() {
        this.set(missing());
      },
    });
  }
  const recordsPending = sources.recordsPending;
  if (recordsPending) {
    new Gauge({
      name: 'registered_mail_evidence_records_pending',
      help: 'Proofs and event-log checkpoints without an evidence record yet (in no time-stamped tree); a few periods of proofs at most, unless the TSA is down',
      registers: [registry],
      async collect() {
        this.set(await recordsPending());
      },
    });
  }
  return registry;
}
