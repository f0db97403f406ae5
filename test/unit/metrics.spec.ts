import { expect } from 'chai';
import { createMetrics, type MetricsCounts } from '../../src/http/metrics.js';

describe('metrics', () => {
  const store: MetricsCounts = { jobs: { counts: async () => [] }, messages: { countByStatus: async () => [] } };

  it('report the documents the blob sweep found missing', async () => {
    let missing = 0;
    const registry = createMetrics(store, { missingDocuments: () => missing });
    expect(await registry.metrics()).to.match(/^registered_mail_documents_missing 0$/m);
    missing = 3;
    expect(await registry.metrics()).to.match(/^registered_mail_documents_missing 3$/m);
  });

  it('report the proofs and checkpoints waiting for their evidence record', async () => {
    let pending = 0;
    const registry = createMetrics(store, { recordsPending: async () => pending });
    expect(await registry.metrics()).to.match(/^registered_mail_evidence_records_pending 0$/m);
    pending = 42;
    expect(await registry.metrics()).to.match(/^registered_mail_evidence_records_pending 42$/m);
  });
});
