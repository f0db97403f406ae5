/**
 * The SMS aggregator simulator, driven through the service's own HTTP SMS adapter
 * (HttpSmsGateway) and checked with the service's own report verification: acceptance and
 * inspection, signed delivery reports (DELIVERED, FAILED by reason, by rate), deduplication,
 * failure injection (transient and permanent), latency against the adapter's timeout, and
 * the configured callback URL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { verifyBodySignature } from '../../../src/notifications/CallbackSignature.js';
import { HTTP_SMS_CALLBACK_PATH, httpSmsReportEvent, HttpSmsGateway } from '../../../src/notifications/providers/HttpSmsGateway.js';
import { ProviderError, providerText, type OutboundSms } from '../../../src/notifications/providers/Provider.js';
import { SmsSimulator, type SimulatedSms } from '../../../dev/notification-simulators/SmsSimulator.js';

const SECRET = 'sms-simulator-callback-secret-0123';
const TOKEN = 'sms-simulator-token';

interface Received {
  path: string;
  signature: string | undefined;
  raw: Buffer;
  body: any;
  valid: boolean;
}

/** Stands in for the service's callback endpoint: records the reports and checks their signatures. */
class Receiver {
  private server: Server | undefined;
  readonly received: Received[] = [];
  status = 204;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const signature = req.headers.signature as string | undefined;
        this.received.push({ path: req.url ?? '', signature, raw, body: JSON.parse(raw.toString('utf8')), valid: verifyBodySignature(SECRET, signature, raw) });
        res.writeHead(this.status).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

async function eventually<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ProviderError);
    return err as ProviderError;
  }
  throw new Error('expected the send to fail');
}

let counter = 0;
function sms(over: Partial<OutboundSms> = {}): OutboundSms {
  counter++;
  return { reference: `attempt-${counter}`, to: `+3247000${String(1000 + counter).slice(-4)}`, text: 'Uw afspraak is morgen om 10:00.', encoding: 'GSM-7', parts: 1, ...over };
}

describe('SMS aggregator simulator', () => {
  let sim: SmsSimulator;
  let receiver: Receiver;
  let gateway: HttpSmsGateway;
  let callbackBase: string | undefined;

  beforeEach(async () => {
    receiver = new Receiver();
    callbackBase = await receiver.start();
    sim = new SmsSimulator({ callbackSecret: SECRET, token: TOKEN, deliveryDelayMs: 5 });
    await sim.start();
    gateway = new HttpSmsGateway({ url: sim.sendUrl, token: TOKEN, from: 'eBox', timeoutMs: 5000, callbackBase: () => callbackBase });
  });
  afterEach(async () => {
    await sim.stop();
    await receiver.stop();
  });

  const reportsFor = (reference: string) => receiver.received.filter((r) => r.body.reference === reference);

  it('accepts what the adapter sends, lists it at GET /messages, and reports DELIVERED, signed as the service checks', async () => {
    const out = sms();
    const accepted = await gateway.send(out);
    expect(accepted.providerRef).to.match(/^sim-sms-\d+$/);
    const listed = (await (await fetch(`${sim.url}/messages?reference=${out.reference}`)).json()) as { items: SimulatedSms[]; calls: number };
    expect(listed.items).to.have.length(1);
    expect(listed.items[0]).to.deep.include({ id: accepted.providerRef, reference: out.reference, to: out.to, from: 'eBox', text: out.text, encoding: 'GSM-7', parts: 1, callbackUrl: `${callbackBase}${HTTP_SMS_CALLBACK_PATH}` });

    const [report] = await eventually('the delivery report', () => reportsFor(out.reference).length === 1 && reportsFor(out.reference));
    expect(report!.path).to.equal(HTTP_SMS_CALLBACK_PATH);
    expect(report!.valid, 'signature verified with the shared secret').to.equal(true);
    expect(verifyBodySignature('another-secret-of-16-chars', report!.signature, report!.raw)).to.equal(false);
    expect(report!.body).to.deep.include({ reference: out.reference, id: accepted.providerRef, status: 'DELIVERED' });
    expect(httpSmsReportEvent(report!.body.status)).to.deep.equal({ event: 'DELIVERED' });
    await eventually('the report outcome', () => sim.reports.find((r) => r.reference === out.reference && r.outcome === 204));
    const one = (await (await fetch(`${sim.url}/messages/${accepted.providerRef}`)).json()) as SimulatedSms & { reports: unknown[] };
    expect(one).to.deep.include({ status: 'DELIVERED' });
    expect(one.reports).to.have.length(1);
  });

  it('reports FAILED with the reason per number, and by rate with a reproducible seed', async () => {
    const gone = sms();
    const late = sms();
    sim.setOptions({ outcomes: { [gone.to]: 'UNDELIVERABLE', [late.to]: 'EXPIRED' } });
    await gateway.send(gone);
    await gateway.send(late);
    await eventually('both reports', () => reportsFor(gone.reference).length === 1 && reportsFor(late.reference).length === 1);
    expect(reportsFor(gone.reference)[0]!.body).to.deep.include({ status: 'FAILED', reason: 'UNDELIVERABLE' });
    expect(reportsFor(late.reference)[0]!.body).to.deep.include({ status: 'FAILED', reason: 'EXPIRED' });
    expect(httpSmsReportEvent('FAILED')).to.deep.equal({ event: 'FAILED', reason: 'SMS_UNDELIVERABLE' });
    expect(reportsFor(gone.reference)[0]!.valid).to.equal(true);

    const draw = async (seed: number) => {
      const s = new SmsSimulator({ callbackSecret: SECRET, seed, failedRate: 0.3, expiredRate: 0.3, deliveryDelayMs: 60_000 });
      await s.start();
      try {
        const g = new HttpSmsGateway({ url: s.sendUrl, timeoutMs: 5000, callbackBase: () => undefined });
        for (let i = 0; i < 40; i++) await g.send(sms());
        return s.messages.map((m) => m.outcome);
      } finally {
        await s.stop();
      }
    };
    const a = await draw(7);
    expect(new Set(a)).to.deep.equal(new Set(['DELIVERED', 'UNDELIVERABLE', 'EXPIRED']));
    expect(await draw(7)).to.deep.equal(a);
  });

  it('sends no report for NONE, and none without a callback URL unless one is configured', async () => {
    const silent = sms();
    sim.setOptions({ outcomes: { [silent.to]: 'NONE' } });
    callbackBase = undefined;
    const lost = sms();
    await gateway.send(silent);
    await gateway.send(lost);
    await eventually('the report attempt', () => sim.reports.find((r) => r.reference === lost.reference));
    expect(sim.reports.find((r) => r.reference === lost.reference)!.outcome).to.equal('no callback URL');
    expect(sim.reports.find((r) => r.reference === silent.reference)).to.equal(undefined);

    sim.setOptions({ callbackUrl: `${receiver.url}/configured` });
    const configured = sms();
    await gateway.send(configured);
    const [r] = await eventually('the report to the configured URL', () => reportsFor(configured.reference).length === 1 && reportsFor(configured.reference));
    expect(r!.path).to.equal('/configured');
    expect(r!.valid).to.equal(true);
    expect(sim.messages.find((m) => m.reference === silent.reference)!.status).to.equal('ACCEPTED');
  });

  it('deduplicates on the reference (or the Idempotency-Key): one message, one report, the same answer', async () => {
    const out = sms();
    const first = await gateway.send(out);
    const again = await gateway.send(out);
    expect(again.providerRef).to.equal(first.providerRef);
    await eventually('the report', () => reportsFor(out.reference).length === 1);
    await gateway.send(out);
    const mine = sim.messages.filter((m) => m.reference === out.reference);
    expect(mine).to.have.length(1);
    expect(mine[0]!.posts).to.equal(3);
    expect(sim.calls).to.equal(3);
    // a known reference with another text is a conflict, refused for good
    const err = await rejection(gateway.send({ ...out, text: 'Something else' }));
    expect(err).to.include({ code: 'SMS_REJECTED', permanent: true });
    expect(err.message).to.contain('409');

    const post = (reference: string, key: string) =>
      fetch(sim.sendUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'idempotency-key': key },
        body: JSON.stringify({ reference, to: '+32470009999', text: 'Hallo', encoding: 'GSM-7', parts: 1 }),
      });
    const a = await post('ref-a', 'key-1');
    const b = await post('ref-b', 'key-1');
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    expect(b.headers.get('idempotent-replayed')).to.equal('true');
    expect(((await b.json()) as { id: string }).id).to.equal(((await a.json()) as { id: string }).id);
    expect(sim.messages.filter((m) => m.dedupeKey === 'key-1')).to.have.length(1);
    // the reports that were due all went out; nothing was reported twice
    await new Promise((r) => setTimeout(r, 100));
    expect(reportsFor(out.reference)).to.have.length(1);
  });

  it('injects transient failures (503) by mode and by rate; the adapter sees them as retryable', async () => {
    sim.setOptions({ failure: { kind: 'fail-first', count: 2 } });
    const out = sms();
    for (let i = 0; i < 2; i++) expect(await rejection(gateway.send(out))).to.include({ code: 'PROVIDER_UNAVAILABLE', permanent: false });
    expect((await gateway.send(out)).providerRef).to.be.a('string');
    expect(sim.messages.filter((m) => m.reference === out.reference)).to.have.length(1);

    sim.setOptions({ failure: { kind: 'unavailable' } });
    expect(await rejection(gateway.send(sms()))).to.include({ code: 'PROVIDER_UNAVAILABLE', permanent: false });
    sim.setOptions({ failure: { kind: 'none' }, failureRate: 1 });
    expect(await rejection(gateway.send(sms()))).to.include({ code: 'PROVIDER_UNAVAILABLE', permanent: false });

    sim.setOptions({ failureRate: 0.5, seed: 11 });
    const outcomes: string[] = [];
    for (let i = 0; i < 30; i++) {
      outcomes.push(
        await gateway.send(sms()).then(
          () => 'ok',
          (e: ProviderError) => e.code,
        ),
      );
    }
    expect(new Set(outcomes)).to.deep.equal(new Set(['ok', 'PROVIDER_UNAVAILABLE']));
    expect(sim.refusals.filter((r) => r.status === 503).length).to.be.greaterThan(3);
  });

  it('answers its rate limit with 429 and Retry-After; the adapter then holds its sends back and spreads their return', async () => {
    const paced = new HttpSmsGateway({ url: sim.sendUrl, token: TOKEN, timeoutMs: 5000, callbackBase: () => callbackBase }, () => 0.5);
    sim.setOptions({ ratePerSecond: 1 });
    try {
      expect((await paced.send(sms())).providerRef).to.be.a('string');
      const limited = (await rejection(paced.send(sms()))) as ProviderError;
      expect(limited).to.include({ code: 'PROVIDER_THROTTLED', permanent: false });
      // Retry-After: 1 → back in 1 s plus a point of the next second (here its middle)
      expect(limited.retryAfterMs).to.equal(1500);
      const seen = sim.refusals.filter((r) => r.status === 429).length;
      // within the pause the next send does not reach the aggregator
      const held = (await rejection(paced.send(sms()))) as ProviderError;
      expect(held).to.include({ code: 'PROVIDER_THROTTLED', permanent: false });
      expect(held.retryAfterMs).to.be.within(1, 1500);
      expect(sim.refusals.filter((r) => r.status === 429).length).to.equal(seen);
    } finally {
      sim.setOptions({ ratePerSecond: 0 });
    }
  });

  it('refuses for good: invalid or listed numbers, a wrong encoding, a rejection rate, wrong credentials', async () => {
    expect(await rejection(gateway.send(sms({ to: '0470123456' })))).to.include({ code: 'PHONE_NUMBER_INVALID', permanent: true });
    sim.setOptions({ invalidNumbers: ['+32470555555'] });
    const listed = await rejection(gateway.send(sms({ to: '+32470555555' })));
    expect(listed).to.include({ code: 'PHONE_NUMBER_INVALID', permanent: true });
    // the simulator's answer names the number, as aggregators' do; the error (logged, kept in the job row) does not
    expect(sim.refusals.at(-1)).to.include({ to: '+32470555555', code: 'INVALID_NUMBER' });
    expect((listed as Error).message).to.include('[number]').and.not.match(/470\s?555/);
    expect(await rejection(gateway.send(sms({ text: 'Uw afspraak is bevestigd ✔' })))).to.include({ code: 'SMS_REJECTED', permanent: true });
    expect((await gateway.send(sms({ text: 'Uw afspraak is bevestigd ✔', encoding: 'UCS-2' }))).providerRef).to.be.a('string');
    sim.setOptions({ rejectRate: 1 });
    expect(await rejection(gateway.send(sms()))).to.include({ code: 'SMS_REJECTED', permanent: true });
    sim.setOptions({ rejectRate: 0 });
    const wrong = new HttpSmsGateway({ url: sim.sendUrl, token: 'not-the-token', timeoutMs: 5000, callbackBase: () => callbackBase });
    expect(await rejection(wrong.send(sms()))).to.include({ code: 'PROVIDER_REJECTED', permanent: true });
    expect(sim.refusals.map((r) => r.code)).to.deep.equal(['INVALID_NUMBER', 'INVALID_NUMBER', 'INVALID_ENCODING', 'REJECTED', 'UNAUTHORIZED']);
    const bad = await fetch(sim.sendUrl, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"to": "+32470123456"}' });
    expect(bad.status).to.equal(400);
    expect(await bad.json()).to.deep.include({ code: 'INVALID_REQUEST' });
  });

  it('answers after its latency: beyond the adapter timeout it is a retryable failure, and a hang likewise', async () => {
    sim.setOptions({ latencyMs: 30_000 });
    const quick = new HttpSmsGateway({ url: sim.sendUrl, token: TOKEN, timeoutMs: 200, callbackBase: () => callbackBase });
    const out = sms();
    const err = await rejection(quick.send(out));
    expect(err).to.include({ code: 'PROVIDER_UNAVAILABLE', permanent: false });
    expect(err.message).to.contain('no answer within 200 ms');
    sim.setOptions({ latencyMs: 20, jitterMs: 20 });
    expect((await quick.send(sms())).providerRef).to.be.a('string');
    sim.setOptions({ latencyMs: 0, jitterMs: 0, failure: { kind: 'hang' } });
    expect(await rejection(quick.send(sms()))).to.include({ code: 'PROVIDER_UNAVAILABLE', permanent: false });
  });

  it('retries a report the callback does not take, and gives up after four tries', async () => {
    receiver.status = 503;
    const out = sms();
    await gateway.send(out);
    await eventually('four tries', () => reportsFor(out.reference).length === 4);
    await eventually('the outcome', () => sim.reports.find((r) => r.reference === out.reference && r.outcome === 503));
    expect(reportsFor(out.reference).every((r) => r.valid)).to.equal(true);
  });

  it('checks its options, at start and through PUT /_sim/options', async () => {
    expect(() => new SmsSimulator({ callbackSecret: SECRET, failureRate: 2 })).to.throw(/failureRate/);
    expect(() => sim.setOptions({ failedRate: 0.7, expiredRate: 0.7 })).to.throw(/exceed 1/);
    const put = (body: unknown) => fetch(`${sim.url}/_sim/options`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put({ latencyMs: -1 })).status).to.equal(400);
    expect((await put({ outcomes: { '+32470000001': 'LOST' } })).status).to.equal(400);
    expect((await put({ failure: { kind: 'unavailable' } })).status).to.equal(204);
    expect(await rejection(gateway.send(sms()))).to.include({ code: 'PROVIDER_UNAVAILABLE' });
  });

  it('keeps no phone number of a provider\'s answer', () => {
    expect(providerText('{"code":"INVALID_NUMBER","message":"+32470555555 is not reachable"}')).to.equal('{"code":"INVALID_NUMBER","message":"[number] is not reachable"}');
    for (const n of ['+32 470 55 55 55', '0470/55.55.55', '0032-470-555555', '32470555555']) expect(providerText(`refused ${n}.`), n).to.equal('refused [number].');
    // short numbers (status codes, counts) stay
    expect(providerText('3: Queued for later delivery (retry 120 s, 42 parts)')).to.equal('3: Queued for later delivery (retry 120 s, 42 parts)');
    expect(providerText('x'.repeat(400))).to.have.length(300);
  });
});
