import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { digest } from '../../../src/crypto/AlgorithmIdentifier.js';
import { HttpTimeStamper, TimeStampAuthority, TimeStampError, parseTimeStampToken, type TimeStampErrorCode } from '../../../src/crypto/index.js';
import { parseTimeStampReq } from '../../../src/crypto/TimeStampReq.js';
import { encodeTimeStampResp } from '../../../src/crypto/TimeStampResp.js';
import { devPki } from './helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

type Handler = (body: Uint8Array, req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** A loopback HTTP server whose behaviour each test sets. */
class TestTsaServer {
  handler: Handler = () => undefined;
  private server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void Promise.resolve(this.handler(new Uint8Array(Buffer.concat(chunks)), req, res)).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/tsa`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function reply(res: http.ServerResponse, body: Uint8Array, type = 'application/timestamp-reply', status = 200): void {
  res.writeHead(status, { 'content-type': type, 'content-length': body.length });
  res.end(Buffer.from(body));
}

async function expectCode(p: Promise<unknown>, code: TimeStampErrorCode): Promise<TimeStampError> {
  try {
    await p;
  } catch (err) {
    expect(err, String(err)).to.be.instanceOf(TimeStampError);
    expect((err as TimeStampError).code, (err as Error).message).to.equal(code);
    return err as TimeStampError;
  }
  throw new Error(`expected TimeStampError ${code}`);
}

for (const algorithm of ['ECDSA-P256', 'RSA-2048'] as const) {
  describe(`crypto/HttpTimeStamper (${algorithm})`, () => {
    const server = new TestTsaServer();
    let url: string;
    let tsa: TimeStampAuthority;
    const data = new TextEncoder().encode('the signature value to time-stamp');

    before(async () => {
      tsa = new TimeStampAuthority((await devPki(algorithm)).tsa, { policyOid: POLICY, accuracyMs: 1 });
      url = await server.start();
    });
    after(() => server.stop());

    it('posts an RFC 3161 query and returns the checked token', async () => {
      let seen: ReturnType<typeof parseTimeStampReq> | undefined;
      server.handler = async (body, req, res) => {
        expect(req.method).to.equal('POST');
        expect(req.headers['content-type']).to.equal('application/timestamp-query');
        seen = parseTimeStampReq(body);
        reply(res, await tsa.respond(body));
      };
      const token = await new HttpTimeStamper(url).timestamp(data);
      expect(seen!.certReq).to.equal(true);
      expect(seen!.nonce! > 0n && seen!.nonce! < 2n ** 63n).to.equal(true);
      expect(seen!.reqPolicy).to.equal(undefined);
      const info = parseTimeStampToken(token);
      expect(info.nonce).to.equal(seen!.nonce);
      expect(hex(info.messageImprint.hashedMessage)).to.equal(hex(digest('SHA-256', data)));
    });

    it('time-stamps a SHA-256 value given (an evidence record root), checked as any answer', async () => {
      const root = digest('SHA-256', data);
      let seen: ReturnType<typeof parseTimeStampReq> | undefined;
      server.handler = async (body, _req, res) => {
        seen = parseTimeStampReq(body);
        reply(res, await tsa.respond(body));
      };
      const token = await new HttpTimeStamper(url).timestampDigest(root);
      expect(hex(seen!.messageImprint.hashedMessage)).to.equal(hex(root));
      expect(hex(parseTimeStampToken(token).messageImprint.hashedMessage)).to.equal(hex(root));
      // a TSA answering for another value is caught
      const other = digest('SHA-256', root);
      server.handler = async (body, _req, res) => {
        const req = parseTimeStampReq(body);
        reply(res, encodeTimeStampResp({ status: 'granted', failInfo: [], token: await tsa.issueToken({ ...req.messageImprint, hashedMessage: other }, { ...(req.nonce !== undefined ? { nonce: req.nonce } : {}), certReq: true }) }));
      };
      await expectCode(new HttpTimeStamper(url).timestampDigest(root), 'TSA_RESPONSE_MISMATCH');
      expect(() => new HttpTimeStamper(url).timestampDigest(new Uint8Array(20))).to.throw(RangeError);
    });

    it('asks for a policy when configured and reports the refusal as TSA_REJECTED with its text', async () => {
      server.handler = async (body, _req, res) => reply(res, await tsa.respond(body));
      const token = await new HttpTimeStamper(url, { policyOid: POLICY }).timestamp(data);
      expect(parseTimeStampToken(token).policy).to.equal(POLICY);
      const err = await expectCode(new HttpTimeStamper(url, { policyOid: '1.2.3.4' }).timestamp(data), 'TSA_REJECTED');
      expect(err.status).to.equal('rejection');
      expect(err.failInfo).to.deep.equal(['unacceptedPolicy']);
      expect(err.statusText).to.match(/1\.2\.3\.4/);
    });

    it('times out as TSA_TIMEOUT, whether the headers or the body never come', async () => {
      server.handler = () => undefined; // never answers
      const err = await expectCode(new HttpTimeStamper(url, { timeoutMs: 150 }).timestamp(data), 'TSA_TIMEOUT');
      expect(err.cause).to.not.equal(undefined);
      server.handler = (_body, _req, res) => {
        res.writeHead(200, { 'content-type': 'application/timestamp-reply', 'content-length': 1000 });
        res.write(Buffer.alloc(10));
      };
      await expectCode(new HttpTimeStamper(url, { timeoutMs: 150 }).timestamp(data), 'TSA_TIMEOUT');
    });

    it('reports a refused connection as TSA_UNAVAILABLE', async () => {
      const closed = new TestTsaServer();
      const closedUrl = await closed.start();
      await closed.stop();
      const err = await expectCode(new HttpTimeStamper(closedUrl, { timeoutMs: 2000 }).timestamp(data), 'TSA_UNAVAILABLE');
      expect(err.cause).to.not.equal(undefined);
    });

    it('reports 503 and a wrong content type as TSA_HTTP_ERROR', async () => {
      server.handler = (_body, _req, res) => reply(res, new TextEncoder().encode('busy'), 'text/plain', 503);
      expect((await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_HTTP_ERROR')).httpStatus).to.equal(503);
      server.handler = async (body, _req, res) => reply(res, await tsa.respond(body), 'text/html');
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_HTTP_ERROR');
    });

    it('reports garbage, a granted answer without token and a badly signed token as TSA_BAD_RESPONSE', async () => {
      server.handler = (_body, _req, res) => reply(res, crypto.getRandomValues(new Uint8Array(64)));
      expect((await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_BAD_RESPONSE')).cause).to.not.equal(undefined);
      server.handler = (_body, _req, res) => reply(res, encodeTimeStampResp({ status: 'granted', failInfo: [] }));
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_BAD_RESPONSE');
      server.handler = async (body, _req, res) => {
        const resp = await tsa.respond(body);
        resp[resp.length - 5]! ^= 0x01; // a bit of the signature value
        reply(res, resp);
      };
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_BAD_RESPONSE');
    });

    it('refuses a token from a TSA certificate without critical timeStamping usage (TSA_BAD_RESPONSE)', async () => {
      const unsuitable = new TimeStampAuthority((await devPki(algorithm, { tsaExtendedKeyUsage: 'non-critical' })).tsa, {
        policyOid: POLICY,
        allowUnsuitableCertificate: true,
      });
      server.handler = async (body, _req, res) => reply(res, await unsuitable.respond(body));
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_BAD_RESPONSE');
    });

    it('refuses a token for another nonce or another imprint (TSA_RESPONSE_MISMATCH)', async () => {
      server.handler = async (body, _req, res) => {
        const req = parseTimeStampReq(body);
        const token = await tsa.issueToken(req.messageImprint, { nonce: req.nonce! + 1n, certReq: true });
        reply(res, encodeTimeStampResp({ status: 'granted', failInfo: [], token }));
      };
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_RESPONSE_MISMATCH');
      server.handler = async (body, _req, res) => {
        const req = parseTimeStampReq(body);
        const other = { hashAlgorithmOid: req.messageImprint.hashAlgorithmOid, hashedMessage: digest('SHA-256', Uint8Array.of(1)) };
        const token = await tsa.issueToken(other, { nonce: req.nonce!, certReq: true });
        reply(res, encodeTimeStampResp({ status: 'granted', failInfo: [], token }));
      };
      await expectCode(new HttpTimeStamper(url).timestamp(data), 'TSA_RESPONSE_MISMATCH');
    });

    it('uses the fetch it is given', async () => {
      let calls = 0;
      server.handler = async (body, _req, res) => reply(res, await tsa.respond(body));
      const counting: typeof fetch = (input, init) => {
        calls++;
        return fetch(input, init);
      };
      await new HttpTimeStamper(url, { fetch: counting }).timestamp(data);
      expect(calls).to.equal(1);
    });
  });
}
