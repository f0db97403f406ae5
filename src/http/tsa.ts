/**
 * The built-in RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4):
 * POST application/timestamp-query → application/timestamp-reply.
 *
 * Kept lean, as a TSA answers many small requests: the body (at most 16 KB) is read straight
 * from the request stream, the reply is signed synchronously when the TSA's key is in this
 * process (`respondSync`, TimeStampTokenTemplate.ts) and written with one `end`, without a body-parser
 * middleware or `res.send`'s content negotiation.
 *
 * `serveTsa` goes further for the common case (POST /tsa, the right content type, a declared
 * length within the limit): it answers before Express sees the request — synchronously when
 * the key is in this process, else (a key in a PKCS#11 token) once the token has signed.
 * Express changes the prototype of every request and response object (`app.handle`:
 * Object.setPrototypeOf), which alone took about half of the CPU time of a reply (bench:tsa,
 * README "Performance"). Every other case — wrong type, no length, errors — goes on to the
 * Express route below, with its problem+json answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { Router, type Express, type Request } from 'express';
import type { Logger } from 'pino';
import type { TimeStampAuthority } from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import { problemHandler } from './problem.js';

const MAX_REQUEST_OCTETS = 16 * 1024;

/** Thrown like body-parser's "entity too large": the problem handler answers 413. */
class RequestTooLarge extends Error {
  readonly status = 413;
  readonly expose = true;
}

function readBody(req: Request): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_REQUEST_OCTETS) {
      req.resume();
      reject(new RequestTooLarge('request entity too large'));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_OCTETS) chunks.push(chunk);
    });
    req.once('end', () => (size > MAX_REQUEST_OCTETS ? reject(new RequestTooLarge('request entity too large')) : resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))));
    // the client went away mid-body (Node reports "aborted"): nobody reads the answer, and it is not the service's fault
    req.once('error', (err) => reject(new ServiceError('CLIENT_GONE', 'the client closed the connection before the request was complete', { cause: err })));
  });
}

export function tsaRouter(tsa: TimeStampAuthority): Router {
  const r = Router();
  r.post('/tsa', async (req, res) => {
    if (!req.is('application/timestamp-query')) {
      req.resume();
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send an RFC 3161 TimeStampReq as application/timestamp-query');
    }
    const body = await readBody(req);
    const request = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    const reply = tsa.respondSync(request) ?? (await tsa.respond(request));
    res.writeHead(200, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': reply.byteLength });
    res.end(reply);
  });
  return r;
}

/**
 * The TSA alone (the standalone TSA server, src/cli/tsa.ts): POST /tsa, GET /healthz, and
 * problem+json for anything else.
 */
export function createTsaApp(tsa: TimeStampAuthority, log: Logger): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  serveTsa(app, tsa);
  app.use((_req, _res, next) => next(new ServiceError('NOT_FOUND', 'no such resource')));
  app.use(problemHandler(log));
  return app;
}

/** Mounts the TSA: the Express route, and the lean path in front of Express (see above). */
export function serveTsa(app: Express, tsa: TimeStampAuthority): void {
  app.use(tsaRouter(tsa));
  const express = app as unknown as { handle(req: IncomingMessage, res: ServerResponse, next?: unknown): void };
  const handle = express.handle.bind(app);
  express.handle = (req, res, next) => {
    if (!answerLean(req, res, tsa)) handle(req, res, next);
  };
}

function answerLean(req: IncomingMessage, res: ServerResponse, tsa: TimeStampAuthority): boolean {
  if (req.method !== 'POST' || req.url !== '/tsa') return false;
  const type = req.headers['content-type'];
  if (!type || type.split(';')[0]!.trim().toLowerCase() !== 'application/timestamp-query') return false;
  const declared = Number(req.headers['content-length']);
  if (!(declared >= 0 && declared <= MAX_REQUEST_OCTETS) || req.headers['transfer-encoding']) return false;
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.once('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const request = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    const send = (reply: Uint8Array) => {
      res.writeHead(200, { 'Content-Type': 'application/timestamp-reply', 'Content-Length': reply.byteLength });
      res.end(reply);
    };
    const reply = tsa.respondSync(request);
    if (reply) return send(reply);
    // a key outside this process: `respond` never throws (a failure is a systemFailure reply)
    tsa.respond(request).then(send, () => res.writeHead(500).end());
  });
  req.once('error', () => res.destroy());
  return true;
}
