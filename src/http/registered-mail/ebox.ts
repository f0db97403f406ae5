/**
 * /v1/ebox: the built-in e-Box, for recipients. Each recipient authenticates with its
 * own token and sees only its own mailbox; downloading a document of a registered
 * message records the handover (ContentHandover evidence for the sender). The recipient also
 * reads the proofs of its messages, as DER or as PDF receipts, and their evidence records.
 */
import type { Readable } from 'node:stream';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ServiceError } from '../../domain/errors.js';
import type { ReceiptService } from '../../registered-mail/receipts.js';
import type { EvidenceRecordService } from '../../registered-mail/records.js';
import type { RecipientService } from '../../registered-mail/recipients.js';
import type { RecipientRecord } from '../../domain/records.js';
import { bearerToken } from '../auth.js';
import { unauthenticated } from '../AuthGuard.js';
import { evidenceSummary, mailboxJson } from '../views.js';
import { receiptLanguage, sendProof, sendReceipt, sendRecord } from './proofs.js';

export function eboxRouter(recipients: RecipientService, receipts: ReceiptService, records: EvidenceRecordService): Router {
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

  r.get('/v1/ebox/messages/:id/evidence', async (req, res) => {
    const list = await recipients.evidenceList(me(res), req.params.id!);
    res.json({ items: list.map((e) => evidenceSummary(e, `/v1/ebox/messages/${encodeURIComponent(req.params.id!)}`)) });
  });

  r.get('/v1/ebox/messages/:id/evidence/:evidenceId', async (req, res) => {
    sendProof(res, await recipients.evidence(me(res), req.params.id!, req.params.evidenceId!));
  });

  r.get('/v1/ebox/messages/:id/evidence/:evidenceId/record', async (req, res) => {
    const e = await recipients.evidence(me(res), req.params.id!, req.params.evidenceId!);
    sendRecord(res, e, await records.evidenceRecord(e));
  });

  r.get('/v1/ebox/messages/:id/evidence/:evidenceId/receipt.pdf', async (req, res) => {
    const e = await recipients.evidence(me(res), req.params.id!, req.params.evidenceId!);
    sendReceipt(res, await receipts.receipt(e, receiptLanguage(req)));
  });

  r.get('/v1/ebox/messages/:id/documents/:position', async (req, res) => {
    const position = Number(req.params.position);
    if (!Number.isInteger(position) || position < 0) throw new ServiceError('NOT_FOUND', 'no such document');
    const { document, stream, delivered } = await recipients.download(me(res), req.params.id!, position);
    res.status(200).type(document.mediaType).setHeader('Content-Length', String(document.size));
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.fileName)}`);
    res.setHeader('Digest', `sha-256=${Buffer.from(document.sha256, 'hex').toString('base64')}`);
    if (!(await sendAll(stream, res, document.size))) {
      throw new ServiceError('CLIENT_GONE', 'the client closed the connection before the document was sent');
    }
    // every byte went out: that is the handover (a broken-off download is none)
    await delivered();
  });
  return r;
}

/**
 * Streams a document into the response; true once every byte of it has been handed to the
 * connection (each write's callback came back without an error), false if the connection
 * closed before that. A client that stops reading once it has Content-Length bytes (curl
 * does) may close the connection before the file's end of stream is even read: the bytes went
 * out, so that is a complete download, where `pipeline` would report a premature close.
 */
export async function sendAll(source: Readable, res: Response, size: number): Promise<boolean> {
  let handedOver = 0;
  /** the event, or the connection closing, whichever comes first */
  const until = (event: 'drain' | 'finish') =>
    new Promise<void>((resolve) => {
      if (res.destroyed) return resolve();
      const done = () => {
        res.off(event, done);
        res.off('close', done);
        resolve();
      };
      res.on(event, done);
      res.on('close', done);
    });
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      if (!res.write(chunk, (err) => void (err ? undefined : (handedOver += chunk.length)))) await until('drain');
    }
  } finally {
    source.destroy();
  }
  if (!res.destroyed) {
    res.end();
    await until('finish');
  }
  if (res.writableFinished) return true;
  // the connection closed: let the callbacks of the writes it had completed run first
  await new Promise((resolve) => setImmediate(resolve));
  return handedOver === size;
}
