/**
 * A client that goes away before its answer is its own doing: the service notes it
 * (CLIENT_GONE, at info level) and does not report a server error. The fuzzer's dropped
 * and half-closed connections found two routes that logged a 500 with a correlation id
 * instead: POST /tsa whose body never ended (the request stream's "aborted" error), and a
 * document download whose connection closed before the bytes went out (the pipeline's
 * premature close; Node takes a half-close as the end of the exchange).
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { rawRequest } from '../helpers/raw-http.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`a client gone mid-exchange is CLIENT_GONE, never a server error (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  const lines: string[] = [];
  let svc: TestService;
  let recipientToken: string;
  let eboxId: string;

  before(async () => {
    svc = await startTestService({}, { log: lines, logLevel: 'info' });
    const { apiKey } = await svc.newSender();
    recipientToken = await svc.newRecipient('citizen', VALID_INSZ);
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(2 * 1024 * 1024) }]);
    const id = ((await res.json()) as { id: string }).id;
    await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
    const box = (await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${recipientToken}` } })).json()) as { items: Array<{ id: string }> };
    eboxId = box.items[0]!.id;
  });
  beforeEach(() => {
    lines.length = 0;
  });
  after(async () => {
    await svc?.close();
  });

  /** Waits (bounded) for the service to log how the exchange ended: the CLIENT_GONE note or an error line. */
  async function howItEnded(): Promise<Array<{ level: number; code?: string }>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const seen = lines.map((l) => JSON.parse(l) as { level: number; code?: string }).filter((l) => l.code === 'CLIENT_GONE' || l.level >= 50);
      if (seen.length > 0 || Date.now() > deadline) return seen.map((l) => ({ level: l.level, code: l.code }));
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('POST /tsa whose chunked body stops and whose connection drops', async () => {
    const head = 'POST /tsa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/timestamp-query\r\nTransfer-Encoding: chunked\r\n\r\n';
    await rawRequest(svc.url, [head, '40\r\n0123456789'], { after: 'destroy' });
    expect(await howItEnded()).to.deep.equal([{ level: 30, code: 'CLIENT_GONE' }]);
  });

  it('a document download whose client half-closes as soon as it has asked', async () => {
    const request = `GET /v1/ebox/messages/${eboxId}/documents/0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${recipientToken}\r\n\r\n`;
    await rawRequest(svc.url, [request], { after: 'end', timeoutMs: 5000 });
    expect(await howItEnded()).to.deep.equal([{ level: 30, code: 'CLIENT_GONE' }]);
    // the service goes on serving the same download
    const res = await fetch(`${svc.url}/v1/ebox/messages/${eboxId}/documents/0`, { headers: { authorization: `Bearer ${recipientToken}` } });
    expect(res.status).to.equal(200);
    expect((await res.arrayBuffer()).byteLength).to.equal(2 * 1024 * 1024);
  });
});
