/**
 * GET /v1/messages with a filter given twice (`?status=ACCEPTED&status=REJECTED`): the parser
 * makes it an array, and the route took an array for "no filter", answering 200 with every
 * message of the sender. Found by `npm run test:fuzz` (repeated query keys); a parameter
 * given twice is now 400 QUERY_INVALID, as a malformed one is.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

describe(`GET /v1/messages with a parameter given twice (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let apiKey: string;

  before(async () => {
    svc = await startTestService({ SUBMIT_WAIT_MS: '0' }, { worker: false });
    apiKey = (await svc.newSender()).apiKey;
    await svc.newRecipient('citizen', VALID_INSZ);
    expect((await submit(svc, apiKey, metadata(), [{ name: 'main', content: '%PDF-1.7 listed' }])).status).to.equal(202);
  });
  after(async () => {
    await svc?.close();
  });

  const list = async (query: string) => {
    const res = await fetch(`${svc.url}/v1/messages?${query}`, { headers: { authorization: `Bearer ${apiKey}` } });
    return { status: res.status, body: (await res.json()) as { code?: string; items?: unknown[] } };
  };

  it('is 400 QUERY_INVALID, for each of status, since, cursor and limit', async () => {
    for (const query of ['status=ACCEPTED&status=REJECTED', 'status=RECEIVED&status=RECEIVED', 'since=2026-01-01&since=2027-01-01', 'cursor=a&cursor=b', 'limit=1&limit=2']) {
      const { status, body } = await list(query);
      expect({ status, code: body.code }, query).to.deep.equal({ status: 400, code: 'QUERY_INVALID' });
    }
  });

  it('given once, filters as before', async () => {
    expect((await list('status=RECEIVED')).body.items).to.have.length(1);
    expect((await list('status=REJECTED')).body.items).to.have.length(0);
    expect((await list('status%5B%5D=REJECTED')).body.items).to.have.length(1);
  });
});
