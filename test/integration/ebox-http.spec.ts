/**
 * HttpEboxAdapter against the e-Box simulator, both over real HTTP on 127.0.0.1. The
 * simulator runs in-process so the tests can read its state (what was stored, how often,
 * with which digests) and share a clock with the adapter.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { expect } from 'chai';
import { EboxError, type DepositReceipt, type EboxDeposit, type EboxDocument, type EboxErrorCode } from '../../src/registered-mail/ebox/EboxAdapter.js';
import { DocumentIntegrityError, HttpEboxAdapter, type HttpEboxAdapterOptions } from '../../src/registered-mail/ebox/HttpEboxAdapter.js';
import {
  SIMULATOR_DEFAULT_CLIENT,
  startEboxSimulator,
  type EboxSimulatorOptions,
  type RunningEboxSimulator,
} from '../../dev/ebox-simulator/EboxSimulator.js';
import type { SimulatorSnapshot } from '../../dev/ebox-simulator/SimulatorState.js';

const ACTIVE_CITIZEN = '85073003328';
const INACTIVE_CITIZEN = '17073003384';
const ACTIVE_ENTERPRISE = '0403019261';
const UNKNOWN_CITIZEN = '90010100123';
const LATER_ENTERPRISE = '0428759497';
const DAY = 24 * 3600 * 1000;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface TestDocument extends EboxDocument {
  opens: number;
}

function bufferDocument(partName: string, fileName: string, bytes: Buffer, isMain = false, mediaType = 'application/pdf'): TestDocument {
  const doc: TestDocument = {
    partName,
    fileName,
    mediaType,
    size: bytes.length,
    sha256: sha256(bytes),
    isMain,
    opens: 0,
    open() {
      doc.opens++;
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += 16 * 1024) chunks.push(bytes.subarray(i, i + 16 * 1024));
      return Readable.from(chunks);
    },
  };
  return doc;
}

/**
 * A document produced on demand, never present whole in memory, that refuses to get more
 * than WINDOW bytes ahead of what the simulator has received. An adapter that read the
 * document whole before sending would wait forever for the simulator: the stream gives
 * up after a bounded number of waits without progress and the deposit fails.
 */
function lazyDocument(sim: RunningEboxSimulator, size: number, partName: string, fileName: string, isMain: boolean): TestDocument {
  const CHUNK = 64 * 1024;
  const WINDOW = 1024 * 1024;
  const MAX_WAITS_WITHOUT_PROGRESS = 2000; // × 5 ms
  const chunkAt = (offset: number, length: number): Buffer => {
    const b = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) b[i] = ((offset + i) * 31 + ((offset + i) >>> 12)) % 251;
    return b;
  };
  const hash = createHash('sha256');
  for (let at = 0; at < size; at += CHUNK) hash.update(chunkAt(at, Math.min(CHUNK, size - at)));
  const doc: TestDocument = {
    partName,
    fileName,
    mediaType: 'application/pdf',
    size,
    sha256: hash.digest('hex'),
    isMain,
    opens: 0,
    open() {
      doc.opens++;
      const baseline = sim.state.bytesReceived;
      let produced = 0;
      let waits = 0;
      let lastReceived = -1;
      return new Readable({
        highWaterMark: CHUNK,
        read() {
          const step = (): void => {
            if (produced >= size) return void this.push(null);
            const received = sim.state.bytesReceived - baseline;
            if (received !== lastReceived) {
              lastReceived = received;
              waits = 0;
            }
            if (produced - received > WINDOW) {
              if (++waits > MAX_WAITS_WITHOUT_PROGRESS) {
                return void this.destroy(new Error(`the adapter read ${produced} bytes while the e-Box received ${received}: not streamed`));
              }
              return void setTimeout(step, 5);
            }
            const length = Math.min(CHUNK, size - produced);
            const chunk = chunkAt(produced, length);
            produced += length;
            this.push(chunk);
          };
          step();
        },
      });
    },
  };
  return doc;
}

async function expectEboxError(promise: Promise<unknown>, code: EboxErrorCode, permanent: boolean): Promise<EboxError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected EboxError ${code}`).to.be.instanceOf(EboxError);
  const e = caught as EboxError;
  expect({ code: e.code, permanent: e.permanent }).to.deep.equal({ code, permanent });
  return e;
}

describe('HTTP e-Box adapter against the e-Box simulator', function () {
  this.timeout(60_000);

  let clock: number;
  const now = (): number => clock;
  const running: RunningEboxSimulator[] = [];

  beforeEach(() => {
    clock = Date.now();
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.close()));
  });

  async function simulator(options: EboxSimulatorOptions = {}): Promise<RunningEboxSimulator> {
    const sim = await startEboxSimulator({
      now,
      recipients: [
        { eboxType: 'citizen', id: ACTIVE_CITIZEN, activated: true },
        { eboxType: 'citizen', id: INACTIVE_CITIZEN, activated: false },
        { eboxType: 'enterprise', id: ACTIVE_ENTERPRISE, activated: true },
      ],
      ...options,
    });
    running.push(sim);
    return sim;
  }

  function adapter(sim: RunningEboxSimulator, options: Partial<HttpEboxAdapterOptions> = {}): HttpEboxAdapter {
    return new HttpEboxAdapter({
      baseUrl: sim.url,
      clientId: SIMULATOR_DEFAULT_CLIENT.clientId,
      clientSecret: SIMULATOR_DEFAULT_CLIENT.clientSecret,
      scope: 'ebox:publication',
      messageTypeId: 'REGISTERED_MAIL',
      senderApplicationId: 'registered-mail-test',
      timeoutMs: 10_000,
      now,
      ...options,
    });
  }

  function deposit(documents: EboxDocument[], overrides: Partial<EboxDeposit> = {}): EboxDeposit {
    return {
      depositId: randomUUID(),
      recipient: { type: 'citizen', id: ACTIVE_CITIZEN },
      subject: { nl: 'Uw aangetekende zending', fr: 'Votre envoi recommandé' },
      sender: { id: 'sender-1', name: 'Rijksdienst voor Pensioenen' },
      registered: true,
      expiresAt: new Date(clock + 14 * DAY),
      documents,
      ...overrides,
    };
  }

  async function state(sim: RunningEboxSimulator): Promise<SimulatorSnapshot> {
    const res = await fetch(`${sim.url}/__admin/state`);
    expect(res.status).to.equal(200);
    return (await res.json()) as SimulatorSnapshot;
  }

  async function admin(sim: RunningEboxSimulator, path: string, body: unknown): Promise<Response> {
    return fetch(`${sim.url}/__admin/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  describe('recipients', () => {
    it('tells reachable, not activated and unknown apart, including recipients added at run time', async () => {
      const sim = await simulator();
      const ebox = adapter(sim);
      expect(await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN })).to.deep.equal({ reachable: true });
      expect(await ebox.recipientStatus({ type: 'enterprise', id: ACTIVE_ENTERPRISE })).to.deep.equal({ reachable: true });
      expect(await ebox.recipientStatus({ type: 'citizen', id: INACTIVE_CITIZEN })).to.deep.equal({ reachable: false, reason: 'EBOX_NOT_ACTIVATED' });
      expect(await ebox.recipientStatus({ type: 'citizen', id: UNKNOWN_CITIZEN })).to.deep.equal({ reachable: false, reason: 'RECIPIENT_UNKNOWN' });
      expect(await ebox.recipientStatus({ type: 'enterprise', id: LATER_ENTERPRISE })).to.deep.equal({ reachable: false, reason: 'RECIPIENT_UNKNOWN' });

      expect((await admin(sim, 'recipients', { eboxType: 'enterprise', enterpriseNumber: LATER_ENTERPRISE, activated: true })).status).to.equal(200);
      expect(await ebox.recipientStatus({ type: 'enterprise', id: LATER_ENTERPRISE })).to.deep.equal({ reachable: true });
    });

    it('a deposit to an unknown or not activated recipient is permanently unreachable, and nothing is stored', async () => {
      const sim = await simulator();
      const ebox = adapter(sim);
      for (const id of [UNKNOWN_CITIZEN, INACTIVE_CITIZEN]) {
        await expectEboxError(
          ebox.deposit(deposit([bufferDocument('main', 'letter.pdf', randomBytes(1000), true)], { recipient: { type: 'citizen', id } })),
          'RECIPIENT_UNREACHABLE',
          true,
        );
      }
      expect((await state(sim)).publications).to.have.length(0);
    });
  });

  describe('deposit', () => {
    it('deposits one document: the e-Box gets the bytes, the digest and the metadata', async () => {
      const sim = await simulator();
      const bytes = randomBytes(300_000);
      const doc = bufferDocument('main', 'Brief 2026-001.pdf', bytes, true);
      const d = deposit([doc]);
      const receipt = await adapter(sim).deposit(d);

      const s = await state(sim);
      expect(s.publications).to.have.length(1);
      const p = s.publications[0]!;
      expect(receipt.eboxMessageId).to.equal(p.publicationId);
      expect(receipt.depositedAt.toISOString()).to.equal(p.receiptDate);
      expect(p).to.deep.include({
        idempotencyKey: d.depositId,
        storedCount: 1,
        recipient: { eboxType: 'citizen', id: ACTIVE_CITIZEN },
        subject: { nl: 'Uw aangetekende zending', fr: 'Votre envoi recommandé' },
        messageTypeId: 'REGISTERED_MAIL',
        senderApplicationId: 'registered-mail-test',
        registeredMail: true,
        expirationDate: d.expiresAt.toISOString(),
        sender: { id: 'sender-1', name: 'Rijksdienst voor Pensioenen' },
      });
      expect(p.attachments).to.deep.equal([
        { httpPartName: 'main', fileName: 'Brief 2026-001.pdf', mediaType: 'application/pdf', isMainContent: true, size: bytes.length, sha256: sha256(bytes) },
      ]);
      expect(doc.opens).to.equal(1);
    });

    it('deposits six documents, one of 5 MB streamed without being held in memory, non-ASCII names intact', async () => {
      const sim = await simulator();
      const big = lazyDocument(sim, 5 * 1024 * 1024, 'main', 'Beslissing – pensioen.pdf', true);
      const small = [
        bufferDocument('annex1', 'résumé.pdf', randomBytes(1)),
        bufferDocument('annex2', '€ factuur.pdf', randomBytes(200_000)),
        bufferDocument('annex3', '日本語.txt', Buffer.from('こんにちは\n'), false, 'text/plain'),
        bufferDocument('annex4', '100% leeg.txt', Buffer.alloc(0), false, 'text/plain'),
        bufferDocument('annex5', 'data.bin', randomBytes(70_001), false, 'application/octet-stream'),
      ];
      const documents = [big, ...small];
      const receipt = await adapter(sim).deposit(deposit(documents));

      const s = await state(sim);
      expect(s.publications).to.have.length(1);
      expect(s.publications[0]!.publicationId).to.equal(receipt.eboxMessageId);
      expect(s.publications[0]!.attachments).to.deep.equal(
        documents.map((d) => ({
          httpPartName: d.partName,
          fileName: d.fileName,
          mediaType: d.mediaType,
          isMainContent: d.isMain,
          size: d.size,
          sha256: d.sha256,
        })),
      );
      expect(documents.map((d) => d.opens)).to.deep.equal([1, 1, 1, 1, 1, 1]);
    });

    it('refuses more than six documents before opening any', async () => {
      const sim = await simulator();
      const documents = Array.from({ length: 7 }, (_, i) => bufferDocument(`p${i}`, `${i}.pdf`, randomBytes(10), i === 0));
      await expectEboxError(adapter(sim).deposit(deposit(documents)), 'EBOX_REJECTED', true);
      expect(documents.map((d) => d.opens)).to.deep.equal([0, 0, 0, 0, 0, 0, 0]);
      expect(sim.state.counters.publicationRequests).to.equal(0);
    });

    it('abandons the upload of a document whose bytes differ from its digest; nothing is stored', async () => {
      const sim = await simulator();
      const doc = { ...bufferDocument('main', 'letter.pdf', randomBytes(100_000), true), sha256: sha256(Buffer.from('other')) };
      const e = await expectEboxError(adapter(sim).deposit(deposit([doc])), 'EBOX_REJECTED', true);
      expect(e.cause, 'the adapter itself noticed, the e-Box did not have to').to.be.instanceOf(DocumentIntegrityError);
      expect((await state(sim)).publications).to.have.length(0);
    });
  });

  describe('idempotency', () => {
    it('a repeat with the same key and content returns the first publication, stored once', async () => {
      const sim = await simulator();
      const ebox = adapter(sim);
      const bytes = randomBytes(50_000);
      const d = deposit([bufferDocument('main', 'letter.pdf', bytes, true)]);
      const first = await ebox.deposit(d);
      const again = await ebox.deposit({ ...d, documents: [bufferDocument('main', 'letter.pdf', bytes, true)] });
      expect(again).to.deep.equal(first);
      const s = await state(sim);
      expect(s.publications).to.have.length(1);
      expect(s.publications[0]).to.include({ storedCount: 1, replays: 1 });
    });

    it('the same key with different content is a permanent rejection (409)', async () => {
      const sim = await simulator();
      const ebox = adapter(sim);
      const d = deposit([bufferDocument('main', 'letter.pdf', randomBytes(1000), true)]);
      await ebox.deposit(d);
      await expectEboxError(ebox.deposit({ ...d, documents: [bufferDocument('main', 'letter.pdf', randomBytes(1000), true)] }), 'EBOX_REJECTED', true);
      expect((await state(sim)).publications).to.have.length(1);
    });

    it('a connection destroyed after the store, then a retry: stored once, same publication', async () => {
      const sim = await simulator();
      const ebox = adapter(sim);
      const bytes = randomBytes(20_000);
      const d = deposit([bufferDocument('main', 'letter.pdf', bytes, true)]);
      sim.state.faults.failNext('destroy-after-store');
      await expectEboxError(ebox.deposit(d), 'EBOX_UNAVAILABLE', false);
      const afterCut = await state(sim);
      expect(afterCut.publications).to.have.length(1); // it did go through

      const receipt = await ebox.deposit({ ...d, documents: [bufferDocument('main', 'letter.pdf', bytes, true)] });
      const s = await state(sim);
      expect(s.publications).to.have.length(1);
      expect(s.publications[0]).to.include({ publicationId: receipt.eboxMessageId, storedCount: 1, replays: 1 });
      expect(s.faultsInjected['destroy-after-store']).to.equal(1);
    });
  });

  describe('failures', () => {
    for (const fault of ['unavailable', 'internal-error'] as const) {
      it(`${fault === 'unavailable' ? '503' : '500'} is EBOX_UNAVAILABLE, transient, and nothing is stored`, async () => {
        const sim = await simulator();
        const ebox = adapter(sim);
        sim.state.faults.failNext(fault);
        await expectEboxError(ebox.deposit(deposit([bufferDocument('main', 'a.pdf', randomBytes(5000), true)])), 'EBOX_UNAVAILABLE', false);
        expect((await state(sim)).publications).to.have.length(0);
        // the next attempt goes through
        await ebox.deposit(deposit([bufferDocument('main', 'a.pdf', randomBytes(5000), true)]));
        expect((await state(sim)).publications).to.have.length(1);
      });
    }

    it('429 from the rate limit is EBOX_UNAVAILABLE, transient', async () => {
      const sim = await simulator({ maxRequestsPerSecond: 1 });
      const ebox = adapter(sim);
      await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN });
      await expectEboxError(ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }), 'EBOX_UNAVAILABLE', false);
      expect(sim.state.counters.rateLimited).to.equal(1);
      clock += 1000;
      expect(await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN })).to.deep.equal({ reachable: true });
    });

    it('no answer within timeoutMs is EBOX_UNAVAILABLE, transient', async () => {
      const sim = await simulator();
      const ebox = adapter(sim, { timeoutMs: 300 });
      await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }); // token in cache
      sim.state.faults.update({ latencyMs: 5_000 });
      await expectEboxError(ebox.deposit(deposit([bufferDocument('main', 'a.pdf', randomBytes(5000), true)])), 'EBOX_UNAVAILABLE', false);
      await expectEboxError(ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }), 'EBOX_UNAVAILABLE', false);
    });

    it('an e-Box that cannot be reached is EBOX_UNAVAILABLE, transient', async () => {
      const sim = await simulator();
      const url = sim.url;
      await sim.close();
      running.splice(running.indexOf(sim), 1);
      const ebox = new HttpEboxAdapter({
        baseUrl: url,
        clientId: 'x',
        clientSecret: 'y',
        messageTypeId: 'm',
        senderApplicationId: 'a',
        timeoutMs: 5_000,
      });
      await expectEboxError(ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }), 'EBOX_UNAVAILABLE', false);
    });
  });

  describe('OAuth2 access token', () => {
    it('a wrong client secret is EBOX_AUTH_FAILED, transient, and no document is opened', async () => {
      const sim = await simulator();
      const ebox = adapter(sim, { clientSecret: 'not-the-secret' });
      const doc = bufferDocument('main', 'a.pdf', randomBytes(100), true);
      await expectEboxError(ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }), 'EBOX_AUTH_FAILED', false);
      const e = await expectEboxError(ebox.deposit(deposit([doc])), 'EBOX_AUTH_FAILED', false);
      await expectEboxError(ebox.handovers(undefined), 'EBOX_AUTH_FAILED', false);
      expect(doc.opens).to.equal(0);
      expect(sim.state.counters.tokenRequestsRefused).to.equal(3);
      expect(sim.state.counters.publicationRequests).to.equal(0);
      expect(e.message).not.to.include('not-the-secret');
    });

    it('a token the e-Box refuses even when just obtained is EBOX_AUTH_FAILED', async () => {
      const sim = await simulator();
      // every token dies the moment it is issued
      const revokingFetch: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        if (String(input).endsWith('/oauth2/token')) sim.state.revokeTokens();
        return res;
      };
      const ebox = adapter(sim, { fetch: revokingFetch });
      await expectEboxError(ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN }), 'EBOX_AUTH_FAILED', false);
      expect(sim.state.counters.tokensIssued).to.equal(2); // renewed once on the 401, then gave up
      await expectEboxError(ebox.deposit(deposit([bufferDocument('main', 'a.pdf', randomBytes(100), true)])), 'EBOX_AUTH_FAILED', false);
      expect((await state(sim)).publications).to.have.length(0);
    });

    it('is cached, renewed before it expires, and renewed once on a 401, transparently', async () => {
      const sim = await simulator({ tokenTtlSeconds: 300 });
      const ebox = adapter(sim);
      const doc = (): TestDocument => bufferDocument('main', 'a.pdf', randomBytes(1000), true);

      await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN });
      await ebox.deposit(deposit([doc()]));
      await ebox.handovers(undefined);
      expect(sim.state.counters.tokensIssued).to.equal(1);

      // past expiry (for the simulator too): a new token is fetched before the call
      clock += 301_000;
      await ebox.deposit(deposit([doc()]));
      expect(sim.state.counters.tokensIssued).to.equal(2);
      // within the refresh margin before expiry: renewed ahead of time
      clock += 280_000;
      await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN });
      expect(sim.state.counters.tokensIssued).to.equal(3);
      expect(sim.state.counters.unauthorized).to.equal(0);

      // revoked behind the adapter's back: a read renews the token and tries once more
      sim.state.revokeTokens();
      expect(await ebox.recipientStatus({ type: 'citizen', id: ACTIVE_CITIZEN })).to.deep.equal({ reachable: true });
      expect(sim.state.counters).to.include({ tokensIssued: 4, unauthorized: 1 });

      // a deposit does not re-send its documents within one attempt: it fails transiently
      // with a new token already in hand, and the next attempt goes through
      sim.state.revokeTokens();
      const d = deposit([doc()]);
      await expectEboxError(ebox.deposit(d), 'EBOX_UNAVAILABLE', false);
      expect(sim.state.counters).to.include({ tokensIssued: 5, unauthorized: 2 });
      await ebox.deposit({ ...d, documents: [doc()] });
      expect(sim.state.counters.tokensIssued).to.equal(5);
      expect((await state(sim)).publications).to.have.length(3);
    });
  });

  describe('handovers', () => {
    it('pages through the event feed, skipping other event types, and resumes from the cursor', async () => {
      const sim = await simulator();
      const ebox = adapter(sim, { eventPageSize: 2 });
      const deposits = Array.from({ length: 5 }, () => deposit([bufferDocument('main', 'a.pdf', randomBytes(100), true)]));
      const receipts: DepositReceipt[] = [];
      for (const d of deposits) receipts.push(await ebox.deposit(d));
      const read = async (i: number): Promise<void> => {
        expect((await admin(sim, 'read', { publicationId: receipts[i]!.eboxMessageId })).status).to.equal(200);
      };

      expect(await ebox.handovers(undefined)).to.deep.include({ events: [] }); // only newDocument events so far
      for (const i of [2, 0, 4]) await read(i);

      const first = await ebox.handovers(undefined);
      expect(first.events.map((e) => [e.depositId, e.eboxMessageId])).to.deep.equal(
        [2, 0, 4].map((i) => [deposits[i]!.depositId, receipts[i]!.eboxMessageId]),
      );
      const readAt = sim.state.publication(receipts[2]!.eboxMessageId)!.readAt;
      expect(first.events[0]!.readAt.toISOString()).to.equal(readAt);
      expect(first.cursor).to.be.a('string');

      expect(await ebox.handovers(first.cursor)).to.deep.equal({ events: [], cursor: first.cursor });

      await read(1);
      await read(2); // already read: no second event
      const next = await ebox.handovers(first.cursor);
      expect(next.events.map((e) => e.depositId)).to.deep.equal([deposits[1]!.depositId]);
      expect(next.cursor).not.to.equal(first.cursor);
    });

    it('reads at most maxEventPages per call; calling again continues where it stopped', async () => {
      const sim = await simulator();
      const ebox = adapter(sim, { eventPageSize: 1, maxEventPages: 2 });
      const receipts: DepositReceipt[] = [];
      for (let i = 0; i < 3; i++) receipts.push(await ebox.deposit(deposit([bufferDocument('main', 'a.pdf', randomBytes(100), true)], { depositId: `m-${i}` })));
      for (const r of receipts) await admin(sim, 'read', { publicationId: r.eboxMessageId });

      const seen: string[] = [];
      let cursor: string | undefined;
      let calls = 0;
      for (; calls < 20; calls++) {
        const page = await ebox.handovers(cursor);
        seen.push(...page.events.map((e) => e.depositId));
        if (page.events.length === 0 && page.cursor === cursor) break;
        expect(page.cursor).not.to.equal(cursor);
        cursor = page.cursor;
      }
      expect(seen).to.deep.equal(['m-0', 'm-1', 'm-2']);
      expect(calls).to.be.greaterThan(2); // 6 events at 2 per call
    });
  });

  describe('under faults', () => {
    it('50 deposits with a failure rate of 0.3 and retries: each stored exactly once', async () => {
      const sim = await simulator({ failureRate: 0.3, seed: 20260301 });
      const ebox = adapter(sim);
      const MAX_ATTEMPTS = 25;
      const plans = Array.from({ length: 50 }, (_, i) => ({
        base: deposit([], { depositId: `msg-${String(i).padStart(2, '0')}` }),
        contents: [randomBytes(1000 + i * 37), randomBytes(10 + i)],
      }));
      const receipts = new Map<string, string>();
      let attempts = 0;

      const run = async (plan: (typeof plans)[number]): Promise<void> => {
        for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
          attempts++;
          const documents = [bufferDocument('main', 'main.pdf', plan.contents[0]!, true), bufferDocument('annex', 'bijlage.pdf', plan.contents[1]!)];
          try {
            const receipt = await ebox.deposit({ ...plan.base, documents });
            receipts.set(plan.base.depositId, receipt.eboxMessageId);
            return;
          } catch (err) {
            if (!(err instanceof EboxError) || err.permanent) throw err;
          }
        }
        throw new Error(`${plan.base.depositId}: not deposited after ${MAX_ATTEMPTS} attempts`);
      };
      const queue = [...plans];
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          for (let plan = queue.shift(); plan; plan = queue.shift()) await run(plan);
        }),
      );

      const s = await state(sim);
      expect(s.publications).to.have.length(50);
      for (const p of s.publications) {
        expect(p.storedCount, p.idempotencyKey).to.equal(1);
        expect(receipts.get(p.idempotencyKey), p.idempotencyKey).to.equal(p.publicationId);
      }
      expect(new Set(s.publications.map((p) => p.idempotencyKey)).size).to.equal(50);
      // the run did meet every kind of failure
      expect(attempts).to.be.greaterThan(50);
      for (const kind of ['unavailable', 'internal-error', 'destroy-after-store'] as const) expect(s.faultsInjected[kind], kind).to.be.greaterThan(0);
    });
  });

  describe('the simulator speaks the API', () => {
    it('token endpoint: invalid_client, invalid_scope, client_secret_basic', async () => {
      const sim = await simulator();
      const form = (fields: Record<string, string>) => ({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
      const wrong = await fetch(`${sim.url}/oauth2/token`, form({ grant_type: 'client_credentials', client_id: SIMULATOR_DEFAULT_CLIENT.clientId, client_secret: 'nope' }));
      expect([wrong.status, await wrong.json()]).to.deep.equal([401, { error: 'invalid_client' }]);
      const scope = await fetch(`${sim.url}/oauth2/token`, form({ grant_type: 'client_credentials', ...pair(), scope: 'everything' }));
      expect([scope.status, await scope.json()]).to.deep.equal([400, { error: 'invalid_scope' }]);
      const basic = await fetch(`${sim.url}/oauth2/token`, {
        ...form({ grant_type: 'client_credentials' }),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${SIMULATOR_DEFAULT_CLIENT.clientId}:${SIMULATOR_DEFAULT_CLIENT.clientSecret}`).toString('base64')}`,
        },
      });
      expect(basic.status).to.equal(200);
      expect(await basic.json()).to.include({ token_type: 'Bearer', expires_in: 300 });
    });

    it('publications: 401 without a token, 400 without Idempotency-Key, 400 on a digest that does not match the bytes', async () => {
      const sim = await simulator();
      const token = await accessToken(sim);
      const bytes = Buffer.from('the document');
      const body = (digest: string): FormData => {
        const fd = new FormData();
        fd.set(
          'metadata',
          JSON.stringify({
            recipient: { eboxType: 'citizen', ssin: ACTIVE_CITIZEN },
            subject: { fr: 'Sujet' },
            messageTypeId: 'REGISTERED_MAIL',
            senderApplicationId: 'manual',
            registeredMail: true,
            expirationDate: new Date(clock + DAY).toISOString(),
            attachments: [{ httpPartName: 'main', isMainContent: true, digest: { algorithm: 'SHA-256', value: digest } }],
          }),
        );
        fd.set('main', new Blob([bytes], { type: 'application/pdf' }), 'main.pdf');
        return fd;
      };
      const post = (headers: Record<string, string>, digest = sha256(bytes)) =>
        fetch(`${sim.url}/ebox/v1/publications`, { method: 'POST', headers, body: body(digest) });

      const anonymous = await post({ 'idempotency-key': '"k1"' });
      expect(anonymous.status).to.equal(401);
      expect(anonymous.headers.get('content-type')).to.match(/^application\/problem\+json/);

      const keyless = await post({ authorization: `Bearer ${token}` });
      expect(keyless.status).to.equal(400);
      expect(((await keyless.json()) as { type: string }).type).to.match(/\/idempotency-key-missing$/);

      const corrupted = await post({ authorization: `Bearer ${token}`, 'idempotency-key': '"k1"' }, sha256(Buffer.from('something else')));
      expect(corrupted.status).to.equal(400);
      expect(((await corrupted.json()) as { type: string }).type).to.match(/\/digest-mismatch$/);
      expect((await state(sim)).publications).to.have.length(0);

      const ok = await post({ authorization: `Bearer ${token}`, 'idempotency-key': '"k1"' });
      expect(ok.status).to.equal(201);
      const s = await state(sim);
      expect(s.publications.map((p) => [p.idempotencyKey, p.attachments[0]!.sha256])).to.deep.equal([['k1', sha256(bytes)]]);
    });

    it('events: 401 without a token, 400 on an unknown cursor', async () => {
      const sim = await simulator();
      expect((await fetch(`${sim.url}/ebox/v1/events`)).status).to.equal(401);
      const res = await fetch(`${sim.url}/ebox/v1/events?after=bogus`, { headers: { authorization: `Bearer ${await accessToken(sim)}` } });
      expect(res.status).to.equal(400);
    });
  });
});

function pair(): Record<string, string> {
  return { client_id: SIMULATOR_DEFAULT_CLIENT.clientId, client_secret: SIMULATOR_DEFAULT_CLIENT.clientSecret };
}

async function accessToken(sim: RunningEboxSimulator): Promise<string> {
  const res = await fetch(`${sim.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...pair() }).toString(),
  });
  expect(res.status).to.equal(200);
  return ((await res.json()) as { access_token: string }).access_token;
}
