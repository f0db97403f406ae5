/**
 * Prometheus metrics (prom-client): job queue by type and status (dead letters
 * included), messages by status, plus the default process metrics.
 */
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/Store.js';

export function createMetrics(store: Store): Registry {
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
  return registry;
}
