/**
 * The rate limit of POST /v1/notifications: a token bucket per sender (NOTIFY_RATE_LIMIT_BURST
 * tokens at most, NOTIFY_RATE_LIMIT_PER_MINUTE added a minute) kept in the database, so that
 * every API process on it shares the bucket; shown in the RateLimit-Policy and RateLimit
 * header fields of draft-ietf-httpapi-ratelimit-headers-10. The bucket here holds 3 and
 * gains one token a minute: no test waits for a token to come back.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { postNotification, SMS_TEXT, startNotifyService, type NotifyService } from '../helpers/notify.js';
import { startTestService, type TestService } from '../helpers/service.js';

const BODY = { phoneNumber: '+32470000250', strategy: 'SMS_ONLY', content: SMS_TEXT };
const ASYNC = { prefer: 'respond-async' };

/** The RateLimit field's remaining tokens and seconds to the next one. */
function rateLimit(res: Response): { r: number; t: number } | undefined {
  const v = res.headers.get('ratelimit');
  if (v === null) return undefined;
  const m = /^"notifications";r=(\d+);t=(\d+)$/.exec(v);
  expect(m, `RateLimit: ${v}`).to.not.equal(null);
  return { r: Number(m![1]), t: Number(m![2]) };
}

describe(`notification rate limit: a token bucket per sender (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let ns: NotifyService;

  before(async () => {
    ns = await startNotifyService({ sim: false, env: { NOTIFY_RATE_LIMIT_BURST: '3', NOTIFY_RATE_LIMIT_PER_MINUTE: '1' } });
  });
  after(async () => ns?.close());

  async function post(apiKey: string, body: unknown = BODY, headers: Record<string, string> = ASYNC, svc: { url: string } = ns.svc): Promise<Response> {
    const res = await postNotification(svc, apiKey, body, headers);
    await res.arrayBuffer();
    return res;
  }

  it('takes a burst, then answers 429 with Retry-After and the RateLimit fields; another sender has its own bucket', async () => {
    const key = (await ns.svc.newSender('Busy')).apiKey;
    const answers = [await post(key), await post(key), await post(key)];
    expect(answers.map((r) => r.status)).to.deep.equal([202, 202, 202]);
    for (const r of answers) expect(r.headers.get('ratelimit-policy')).to.equal('"notifications";q=3;w=180');
    expect(answers.map((r) => rateLimit(r)!.r)).to.deep.equal([2, 1, 0]);
    for (const r of answers) expect(rateLimit(r)!.t).to.be.within(1, 60);

    const refused = await postNotification(ns.svc, key, BODY, ASYNC);
    expect(refused.status).to.equal(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).to.be.within(1, 60);
    expect(refused.headers.get('ratelimit-policy')).to.equal('"notifications";q=3;w=180');
    expect(rateLimit(refused)).to.deep.equal({ r: 0, t: retryAfter });
    expect(await refused.json()).to.include({ code: 'RATE_LIMITED', retryAfter });

    const other = await post((await ns.svc.newSender('Quiet')).apiKey);
    expect(other.status).to.equal(202);
    expect(rateLimit(other)!.r).to.equal(2);
  });

  it('a request refused for its content takes no token', async () => {
    const key = (await ns.svc.newSender('Careless')).apiKey;
    const bad: Array<[unknown, number]> = [
      [{ ...BODY, colour: 'red' }, 422], // unknown member
      [{ ...BODY, phoneNumber: '+3212345' }, 422], // not a mobile number
      [{ ...BODY, content: { nl: { sms: 'x'.repeat(1000) } } }, 422], // SMS_TOO_LONG: found once the text is counted
      [{ ...BODY, content: { nl: { sms: 'Hello {name}' } } }, 422], // a placeholder without a value
      [{ ...BODY, template: 'no-such-template', content: undefined }, 422],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [body, status] of bad) {
        const res = await post(key, body);
        expect(res.status, JSON.stringify(body).slice(0, 80)).to.equal(status);
        expect(res.headers.get('ratelimit')).to.equal(null);
      }
    }
    const good = [await post(key), await post(key), await post(key), await post(key)];
    expect(good.map((r) => r.status)).to.deep.equal([202, 202, 202, 429]);
  });

  it('a replay of an Idempotency-Key takes no token', async () => {
    const key = (await ns.svc.newSender('Retrying')).apiKey;
    const first = await post(key, BODY, { ...ASYNC, 'idempotency-key': 'replayed-1' });
    expect(rateLimit(first)!.r).to.equal(2);
    for (let i = 0; i < 4; i++) {
      const replay = await post(key, BODY, { ...ASYNC, 'idempotency-key': 'replayed-1' });
      expect(replay.status).to.equal(202);
      expect(replay.headers.get('idempotent-replayed')).to.equal('true');
    }
    expect([(await post(key)).status, (await post(key)).status, (await post(key)).status]).to.deep.equal([202, 202, 429]);
  });

  describe('two API processes on one database', () => {
    let second: TestService;
    before(async () => {
      // another service on the same database, as a second API process behind a load balancer
      second = await startTestService({ ...ns.svc.env }, { worker: false, keepData: true, reuse: { dataDir: ns.svc.dataDir, database: ns.svc.database } });
    });
    after(async () => second?.close());

    it('share each sender’s bucket', async () => {
      const key = (await ns.svc.newSender('Spread')).apiKey;
      const one = await post(key, BODY, ASYNC, ns.svc);
      const two = await post(key, BODY, ASYNC, second);
      const three = await post(key, BODY, ASYNC, ns.svc);
      expect([one, two, three].map((r) => `${r.status}:${rateLimit(r)!.r}`)).to.deep.equal(['202:2', '202:1', '202:0']);
      expect((await post(key, BODY, ASYNC, second)).status).to.equal(429);
      expect((await post(key, BODY, ASYNC, ns.svc)).status).to.equal(429);
    });
  });
});
