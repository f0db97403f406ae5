/**
 * /v1/messages: submit a registered message (multipart, streamed; Idempotency-Key),
 * list the sender's messages, read one's status, events and callbacks, list and download
 * its evidence and each proof's PDF receipt. /v1/webhook: the sender's callback URL.
 */
import { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { ServiceError } from '../../domain/errors.js';
import type { ConsultService } from '../../registered-mail/consult.js';
import type { EvidenceNotifier } from '../../registered-mail/evidence.js';
import type { SenderService } from '../../access/senders.js';
import type { Accepted, Intake, SubmissionService } from '../../registered-mail/intake.js';
import type { BatchService } from '../../registered-mail/batches.js';
import type { ReceiptService } from '../../registered-mail/receipts.js';
import type { EvidenceRecordService } from '../../registered-mail/records.js';
import type { WebhookService } from '../../registered-mail/webhooks.js';
import { requireSender, senderOf } from '../auth.js';
import { idempotencyKey } from '../idempotency.js';
import { jsonBody } from '../json.js';
import { readMultipart } from '../multipart.js';
import { batchRoutes } from './batches.js';
import { receiptLanguage, sendProof, sendReceipt, sendRecord } from './proofs.js';
import { sendProblem } from '../problem.js';
import { evidenceJson, evidenceSummary, messageJson, messageSummary } from '../views.js';
import { prefersRespondAsync, respondAsync } from '../prefer.js';

export interface MessagesDeps {
  senders: SenderService;
  submissions: SubmissionService;
  batches: BatchService;
  consult: ConsultService;
  webhooks: WebhookService;
  receipts: ReceiptService;
  records: EvidenceRecordService;
  notifier: EvidenceNotifier;
  submitWaitMs: number;
  log: Logger;
}

export function messagesRouter(deps: MessagesDeps): Router {
  const r = Router();
  r.use(['/v1/messages', '/v1/webhook'], requireSender(deps.senders));
  // before /v1/messages/:id, which would take "batches" for an id
  batchRoutes(r, { batches: deps.batches, log: deps.log });

  r.post('/v1/messages', async (req, res) => {
    const sender = senderOf(res);
    if (!req.is('multipart/form-data')) {
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the message as multipart/form-data: a "metadata" JSON part and the document parts');
    }
    // with Prefer: respond-async, 202 as soon as the message is durable: its proof is the `accept` job's work
    const asynchronous = prefersRespondAsync(req);
    const intake = deps.submissions.begin(sender, idempotencyKey(req), { sealWithin: asynchronous ? 0 : deps.submitWaitMs });
    let accepted: Accepted;
    let finishing: number;
    try {
      await readIntoIntake(req, intake, deps.submissions.limits.maxMetadataBytes);
      finishing = Date.now();
      accepted = await intake.finish();
    } catch (err) {
      await intake.abort();
      // The client may still be sending: answer, then close the connection.
      res.setHeader('Connection', 'close');
      return sendProblem(res, err, deps.log);
    }
    res.location(`/v1/messages/${accepted.message.id}`);
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    if (accepted.evidence) {
      // sealed at intake and written with the message: answered as written
      const view = await deps.consult.asWritten(sender, accepted.message, accepted.documents, [accepted.evidence]);
      return void res.status(201).json(messageJson(view, { includeEvents: false }));
    }
    // 201 once the proof of dispatch (or of rejection) is sealed; 202 if it is still on its way
    // (at once with Prefer: respond-async). The intake's own try at sealing counts in the wait.
    const wait = respondAsync(req, res) ? 0 : Math.max(0, deps.submitWaitMs - (Date.now() - finishing));
    const current = await deps.submissions.waitForDecision(accepted.message.id, wait, deps.notifier, accepted.replayed ? undefined : accepted.message);
    // Not waited for, and no proof announced meanwhile: the message as the intake wrote it, which
    // holds no proof yet. Otherwise its proofs and callbacks as they are now.
    const view =
      current === accepted.message && !accepted.replayed
        ? await deps.consult.asWritten(sender, current, accepted.documents, [])
        : current
          ? await deps.consult.submitted(sender, current, accepted.documents)
          : await deps.consult.message(sender, accepted.message.id, { events: false });
    res.status(current && current.status !== 'RECEIVED' ? 201 : 202).json(messageJson(view, { includeEvents: false }));
  });

  r.get('/v1/messages', async (req, res) => {
    const page = await deps.consult.list(senderOf(res), {
      status: singleQueryValue(req, 'status'),
      since: singleQueryValue(req, 'since'),
      cursor: singleQueryValue(req, 'cursor'),
      limit: singleQueryValue(req, 'limit'),
    });
    res.json({ items: page.items.map((m) => messageSummary(m)), next: page.cursor ? `/v1/messages?${new URLSearchParams({ ...stringQuery(req.query), cursor: page.cursor })}` : null });
  });

  r.get('/v1/messages/:id', async (req, res) => {
    const view = await deps.consult.message(senderOf(res), req.params.id!);
    res.json(messageJson(view, { includeEvents: true }));
  });

  r.get('/v1/messages/:id/evidence', async (req, res) => {
    const list = await deps.consult.evidenceList(senderOf(res), req.params.id!);
    res.json({ items: list.map((e) => evidenceSummary(e)) });
  });

  r.get('/v1/messages/:id/evidence/:evidenceId', async (req, res) => {
    const e = await deps.consult.evidence(senderOf(res), req.params.id!, req.params.evidenceId!);
    const kind = req.accepts(['application/pkcs7-mime', 'application/json']);
    if (kind === false) throw new ServiceError('NOT_ACCEPTABLE', 'this resource is served as application/pkcs7-mime (DER) or application/json');
    res.setHeader('Vary', 'Accept');
    if (kind === 'application/json') return void res.json(evidenceJson(e));
    sendProof(res, e);
  });

  r.get('/v1/messages/:id/evidence/:evidenceId/record', async (req, res) => {
    const e = await deps.consult.evidence(senderOf(res), req.params.id!, req.params.evidenceId!);
    sendRecord(res, e, await deps.records.evidenceRecord(e));
  });

  r.get('/v1/messages/:id/evidence/:evidenceId/receipt.pdf', async (req, res) => {
    const e = await deps.consult.evidence(senderOf(res), req.params.id!, req.params.evidenceId!);
    sendReceipt(res, await deps.receipts.receipt(e, receiptLanguage(req)));
  });

  r.put('/v1/webhook', jsonBody('8kb'), async (req, res) => {
    const url = (req.body as { url?: unknown } | undefined)?.url;
    if (typeof url !== 'string') throw new ServiceError('WEBHOOK_INVALID', 'send {"url": "https://…"}');
    const out = await deps.webhooks.configure(senderOf(res).id, url);
    res.json({ url: out.url, secret: out.secret, signatureHeader: 'Webhook-Signature' });
  });

  r.delete('/v1/webhook', async (_req, res) => {
    await deps.webhooks.configure(senderOf(res).id, null);
    res.status(204).end();
  });

  return r;
}

/**
 * A query parameter given at most once. Given twice (`?status=a&status=b`) it is refused rather
 * than ignored: an ignored filter answers with every message, which is not what was asked.
 */
function singleQueryValue(req: Request, name: string): string | undefined {
  const v = Object.hasOwn(req.query, name) ? req.query[name] : undefined;
  if (v === undefined || typeof v === 'string') return v;
  throw new ServiceError('QUERY_INVALID', `give ${name} once`);
}

function stringQuery(q: Request['query']): Record<string, string> {
  // no prototype: a parameter named "__proto__" is kept as a parameter, not taken for the setter
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(q)) if (typeof v === 'string' && k !== 'cursor') out[k] = v;
  return out;
}

/** The multipart body of POST /v1/messages into its intake: `metadata` (field or file part) and the document parts. */
function readIntoIntake(req: Request, intake: Intake, maxMetadataBytes: number): Promise<void> {
  return readMultipart(req, {
    limits: { fieldSize: maxMetadataBytes, fields: 10, parts: 50, headerPairs: 50 },
    fail: (e) => intake.fail(e),
    field: (name, value, truncated) => {
      if (name === 'metadata') intake.setMetadata(value, truncated);
      else intake.fail(new ServiceError('METADATA_INVALID', `unexpected form field "${name}": documents must be sent as file parts`, { extensions: { part: name } }));
    },
    file: (name, stream, info) => {
      // metadata sent as a file part (curl -F metadata=@meta.json;type=application/json)
      if (name === 'metadata') intake.readMetadata(stream);
      else intake.addDocument(name, info.filename, info.mimeType, stream);
    },
    partsLimit: () => intake.fail(new ServiceError('TOO_MANY_DOCUMENTS', 'too many parts in the request')),
    fieldsLimit: () => intake.fail(new ServiceError('METADATA_INVALID', 'too many form fields')),
  });
}
