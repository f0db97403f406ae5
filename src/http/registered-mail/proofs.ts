/**
 * Serving a proof, to its sender or its recipient: as DER, or as its PDF receipt
 * (src/registered-mail/receipts.ts) in the language asked with `?lang=`, else the best of
 * Accept-Language, else the receipt service's default (the first language the message's
 * subject is given in, else English); or its RFC 4998 evidence record.
 */
import type { Request, Response } from 'express';
import { ServiceError } from '../../domain/errors.js';
import { LANGUAGES, type Language } from '../../domain/EvidenceStatement.js';
import type { EvidenceRecord } from '../../domain/records.js';
import type { Receipt } from '../../registered-mail/receipts.js';

const isLanguage = (v: string): v is Language => (LANGUAGES as readonly string[]).includes(v);

/** The language the request asks for (`?lang=`, else Accept-Language); undefined: the receipt service decides. */
export function receiptLanguage(req: Request): Language | undefined {
  const asked = Object.hasOwn(req.query, 'lang') ? req.query.lang : undefined;
  if (asked !== undefined) {
    if (typeof asked !== 'string' || !isLanguage(asked)) throw new ServiceError('QUERY_INVALID', `lang must be one of ${LANGUAGES.join(', ')}, given once`);
    return asked;
  }
  if (req.get('Accept-Language')) {
    const best = req.acceptsLanguages(...LANGUAGES);
    if (best && isLanguage(best)) return best;
  }
  return undefined;
}

/** The proof as it was sealed: CAdES-T, DER. */
export function sendProof(res: Response, e: EvidenceRecord): void {
  res
    .status(200)
    .type('application/pkcs7-mime; smime-type=signed-data')
    .setHeader('Content-Disposition', `attachment; filename="${e.type}-${e.id}.p7s"`)
    .send(Buffer.from(e.der));
}

/**
 * A proof's RFC 4998 evidence record (docs/evidence-records.md), DER, named as the audit
 * bundle names it beside the proof: `<seq>-<type>.ers`.
 */
export function sendRecord(res: Response, e: EvidenceRecord, record: Uint8Array): void {
  res
    .status(200)
    .type('application/octet-stream')
    .setHeader('Content-Disposition', `attachment; filename="${e.seq}-${e.type}.ers"`)
    .send(Buffer.from(record));
}

export function sendReceipt(res: Response, receipt: Receipt): void {
  res
    .status(200)
    .type('application/pdf')
    .setHeader('Content-Language', receipt.language)
    .setHeader('Vary', 'Accept-Language')
    .setHeader('Content-Disposition', `attachment; filename="${receipt.fileName}"`)
    .send(receipt.pdf);
}
