/**
 * /v1/ebox: the built-in e-Box, for recipients. Each recipient authenticates with its
 * own token and sees only its own mailbox; downloading a document of a registered
 * message records the handover (ContentHandover evidence for the sender).
 */
import { pipeline } from 'node:stream/promises';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ServiceError } from '../../domain/errors.js';
import type { RecipientService } from '../../registered-mail/recipients.js';
import type { RecipientRecord } from '../../domain/records.js';
import { bearerToken } from '../auth.js';
import { unauthenticated } from '../AuthGuard.js';
import { mailboxJson } from '../views.js';

export function eboxRouter(recipients: RecipientService): Router {
  const r = Router();
  r.use('/v1/ebox', async (req: Request, res: Response, next: NextFunction) => {
    const detail = 'a valid e-Box access token is required (Authorization: Bearer …)';
    const bearer = bearerToken(req);
    const recipient = 'refused' in bearer ? bearer.refused : await recipients.authenticate(bearer.token);
    if (typeof recipient === 'string') return next(unauthenticated('recipient', recipient, detail));
    res.locals.recipient = recipient;
    next();
  });
  const me = (res: Response) => res.locals.recipient as RecipientRecord;

  r.get('/v1/ebox/messages', async (_req, res) => {
    const items = await recipients.mailbox(me(res));
    res.json({ items: items.map((e) => mailboxJson(e)) });
  });

  r.get('/v1/ebox/messages/:id', async (req, res) => {
    const { entry, documents } = await recipients.item(me(res), req.params.id!);
    res.json(mailboxJson(entry, documents));
  });

  r.get('/v1/ebox/messages/:id/documents/:position', async (req, res) => {
    const position = Number(req.params.position);
    if (!Number.isInteger(position) || position < 0) throw new ServiceError('NOT_FOUND', 'no such document');
    const { document, stream, delivered } = await recipients.download(me(res), req.params.id!, position);
    res.status(200).type(document.mediaType).setHeader('Content-Length', String(document.size));
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.fileName)}`);
    res.setHeader('Digest', `sha-256=${Buffer.from(document.sha256, 'hex').toString('base64')}`);
    try {
      await pipeline(stream, res);
    } catch (err) {
      // the client closed the connection (or half-closed it, which Node takes as the same) before the bytes went out
      if ((err as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE' && !res.writableFinished) {
        throw new ServiceError('CLIENT_GONE', 'the client closed the connection before the document was sent', { cause: err });
      }
      if (!res.writableFinished) throw err;
    }
    // every byte went out: that is the handover (a broken-off download is none)
    await delivered();
  });
  return r;
}
