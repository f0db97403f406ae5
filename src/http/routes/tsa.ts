/**
 * The built-in RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4):
 * POST application/timestamp-query → application/timestamp-reply.
 */
import express, { Router } from 'express';
import type { TimeStampAuthority } from '../../crypto/index.js';
import { ServiceError } from '../../domain/errors.js';

export function tsaRouter(tsa: TimeStampAuthority): Router {
  const r = Router();
  r.post('/tsa', express.raw({ type: () => true, limit: '16kb' }), async (req, res) => {
    if (!req.is('application/timestamp-query')) {
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send an RFC 3161 TimeStampReq as application/timestamp-query');
    }
    const body = req.body as Buffer;
    const reply = await tsa.respond(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
    res.status(200).type('application/timestamp-reply').send(Buffer.from(reply));
  });
  return r;
}
