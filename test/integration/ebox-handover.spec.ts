/**
 * The handover is the recipient getting the document: a download broken off midway records
 * none; the first complete one records it (DocumentOpened, ContentHandover proof), also when
 * the client closes the connection the moment it has Content-Length bytes, as curl does.
 */
import http from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';

describe(`handover on a broken-off download (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  before(async () => {
    svc = await startTestService({ MAX_DOCUMENT_BYTES: String(40 * 1024 * 1024) });
  });
  after(async () => svc?.close());

  it('records no handover for a download the recipient breaks off, and records it for the first complete one', async () => {
    const { apiKey } = await svc.newSender();
    const token = await svc.newRecipient('citizen', VALID_INSZ);
    const doc = pdfBytes(32 * 1024 * 1024, 21);
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: doc }]);
    const { id } = await res.json();
    await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
    const entry = (await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()).items[0];
    const url = `${svc.url}/v1/ebox/messages/${entry.id}/documents/0`;

    // the first chunk, then the connection dropped
    const received = await new Promise<number>((resolve) => {
      const req = http.get(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (r) => {
        let n = 0;
        r.once('data', (d: Buffer) => {
          n += d.length;
          req.destroy();
          resolve(n);
        });
      });
      req.on('error', () => undefined);
    });
    expect(received).to.be.below(doc.length);
    // give a service that records it anyway every chance to
    await new Promise((r) => setTimeout(r, 1000));
    const after = await (await fetch(`${svc.url}/v1/messages/${id}`, { headers: { authorization: `Bearer ${apiKey}` } })).json();
    expect(after.status, 'no handover for a broken-off download').to.equal('DEPOSITED');
    expect(after.events.map((e: { type: string }) => e.type)).to.not.include('DocumentOpened');

    const full = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(full.status).to.equal(200);
    expect((await full.arrayBuffer()).byteLength).to.equal(doc.length);
    const consulted = await waitForMessage(svc, apiKey, id, (m) => m.status === 'CONSULTED' && m.evidence.some((e: { type: string }) => e.type === 'ContentHandover'));
    expect(consulted.events.filter((e: { type: string }) => e.type === 'DocumentOpened')).to.have.length(1);
  });
});

/** GET over a bare socket that closes the instant the body has Content-Length bytes, as curl does. */
function getAndCloseAtLastByte(url: string, token: string): Promise<{ status: number; body: Buffer }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let raw = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\nAccept: */*\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = raw.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1]);
      const body = raw.subarray(end + 4);
      if (body.length >= length) {
        socket.destroy();
        resolve({ status: Number(head.split(' ')[1]), body });
      }
    });
  });
}

describe(`handover on a download the client closes at its last byte (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  const log: string[] = [];
  let svc: TestService;
  before(async () => {
    svc = await startTestService({}, { log });
  });
  after(async () => svc?.close());

  for (const size of [5_000, 3 * 1024 * 1024]) {
    it(`${size} bytes: recorded once, nothing logged about a premature close or a client gone`, async () => {
      const { apiKey } = await svc.newSender();
      const insz = size === 5_000 ? VALID_INSZ : '17073003384';
      const token = await svc.newRecipient('citizen', insz);
      const doc = pdfBytes(size, 5);
      const { id } = await (await submit(svc, apiKey, metadata({ recipient: { type: 'citizen', id: insz } }), [{ name: 'main', content: doc }])).json();
      await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
      const entry = (await (await fetch(`${svc.url}/v1/ebox/messages`, { headers: { authorization: `Bearer ${token}` } })).json()).items[0];
      const logged = log.length;
      const got = await getAndCloseAtLastByte(`${svc.url}/v1/ebox/messages/${entry.id}/documents/0`, token);
      expect(got.status).to.equal(200);
      expect(Buffer.compare(got.body, Buffer.from(doc))).to.equal(0);
      const consulted = await waitForMessage(svc, apiKey, id, (m) => m.status === 'CONSULTED' && m.evidence.some((e: { type: string }) => e.type === 'ContentHandover'));
      expect(consulted.events.filter((e: { type: string }) => e.type === 'DocumentOpened')).to.have.length(1);
      const after = log.slice(logged).map((l) => JSON.parse(l) as { level: number; msg?: string; code?: string; cause?: unknown });
      expect(after.filter((l) => l.level >= 40 || l.code === 'CLIENT_GONE' || /PREMATURE_CLOSE/.test(JSON.stringify(l)))).to.deep.equal([]);
    });
  }
});
