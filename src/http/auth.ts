/**
 * Bearer authentication of senders. The authenticated sender is put on res.locals.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ServiceError } from '../domain/errors.js';
import { authenticateSender } from '../services/senders.js';
import type { SenderRecord } from '../store/rows.js';
import type { Store } from '../store/Store.js';

export function requireSender(store: Store): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const sender = m ? await authenticateSender(store, m[1]!) : undefined;
    if (!sender) return next(new ServiceError('UNAUTHENTICATED', 'a valid sender API key is required (Authorization: Bearer …)'));
    res.locals.sender = sender;
    next();
  };
}

export function senderOf(res: Response): SenderRecord {
  return res.locals.sender as SenderRecord;
}
