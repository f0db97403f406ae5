/**
 * /v1/messages/batches: submit many registered messages in one request — a manifest and
 * the documents its rows name, as multipart/form-data or as one application/zip archive —
 * and read a batch back: its status, counts and each row's outcome, a page at a time.
 * Mounted by messagesRouter, behind the same sender authentication.
 */
import type { Request, Router } from 'express';
import type { Logger } from 'pino';
import { ServiceError } from '../../domain/errors.js';
import type { BatchAccepted, BatchIntake, BatchService, BatchView } from '../../registered-mail/batches.js';
import { senderOf } from '../auth.js';
import { idempotencyKey } from '../idempotency.js';
import { clientGone, readMultipart } from '../multipart.js';
import { PROBLEM_TYPE_BASE, sendProblem, STATUS_OF } from '../problem.js';
import type { ErrorCode } from '../../domain/errors.js';

export interface BatchDeps {
  batches: BatchService;
  log: Logger;
}

export function batchRoutes(r: Router, deps: BatchDeps): void {
  r.post('/v1/messages/batches', async (req, res) => {
    const sender = senderOf(res);
    const form = req.is(['multipart/form-data', 'application/zip']);
    if (form !== 'multipart/form-data' && form !== 'application/zip') {
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the batch as multipart/form-data (a "manifest" part, then the documents) or as application/zip (manifest.json or manifest.jsonl, and the documents)');
    }
    const key = idempotencyKey(req);
    const limits = deps.batches.limits;
    const declared = Number(req.get('content-length') ?? NaN);
    let accepted: BatchAccepted;
    try {
      if (declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
      if (form === 'application/zip') {
        accepted = await deps.batches.acceptArchive(sender, key, req).catch((err: unknown) => {
          throw req.complete ? err : clientGone();
        });
      } else {
        const intake = deps.batches.begin(sender, key, 'multipart');
        try {
          await readIntoBatch(req, intake, deps.batches);
          accepted = await intake.finish();
        } finally {
          await intake.abort();
        }
      }
    } catch (err) {
      // The client may still be sending: answer, then close the connection.
      res.setHeader('Connection', 'close');
      return sendProblem(res, err, deps.log);
    }
    const view = await deps.batches.view(sender, accepted.batch.id);
    if (accepted.replayed) res.setHeader('Idempotent-Replayed', 'true');
    res.status(201).location(`/v1/messages/batches/${accepted.batch.id}`).json(batchJson(view, req));
  });

  r.get('/v1/messages/batches/:id', async (req, res) => {
    const view = await deps.batches.view(senderOf(res), req.params.id!, { cursor: single(req, 'cursor'), limit: single(req, 'limit') });
    res.json(batchJson(view, req));
  });
}

function tooLarge(max: number): ServiceError {
  return new ServiceError('BATCH_TOO_LARGE', `the batch is larger than ${max} bytes`, { extensions: { limit: max } });
}

/** The multipart form: a `manifest` part (field or file part) first, then one file part per document, named as the manifest names it. */
function readIntoBatch(req: Request, intake: BatchIntake, batches: BatchService): Promise<void> {
  const { maxManifestBytes, maxRows, maxBytes } = batches.limits;
  // the manifest and as many documents as the rows can name; past that busboy stops (partsLimit)
  const parts = maxRows * batches.intakeLimits.maxDocuments + 1;
  return readMultipart(req, {
    limits: { fieldSize: maxManifestBytes, fields: 1, parts: parts + 1, headerPairs: 50 },
    maxBytes,
    tooLarge: () => tooLarge(maxBytes),
    fail: (e) => intake.fail(e),
    field: (name, value, truncated) => {
      if (name === 'manifest') intake.setManifest(value, truncated);
      else intake.fail(new ServiceError('BATCH_MANIFEST_INVALID', `unexpected form field "${name}": the only field is "manifest", documents are file parts`, { extensions: { part: name } }));
    },
    file: (name, stream, info) => {
      if (name !== 'manifest') {
        void intake.addDocument(name, info.filename, info.mimeType, stream);
        return;
      }
      // the manifest as a file part (curl -F manifest=@manifest.jsonl)
      intake.readManifest(stream);
    },
    partsLimit: () => intake.fail(tooLarge(maxBytes)),
    fieldsLimit: () => intake.fail(new ServiceError('BATCH_MANIFEST_INVALID', 'the only form field is "manifest"')),
  });
}

function single(req: Request, name: string): string | undefined {
  const v = Object.hasOwn(req.query, name) ? req.query[name] : undefined;
  if (v === undefined || typeof v === 'string') return v;
  throw new ServiceError('QUERY_INVALID', `give ${name} once`);
}

/** A batch as the API shows it: counts, status, one page of rows and the link to the next. */
export function batchJson(v: BatchView, req: Request): Record<string, unknown> {
  const limit = typeof req.query.limit === 'string' ? req.query.limit : undefined;
  return {
    id: v.batch.id,
    status: v.status,
    form: v.batch.form,
    submittedAt: v.batch.submittedAt,
    counts: { rows: v.batch.rowCount, accepted: v.batch.acceptedCount, refused: v.batch.refusedCount },
    messageStatuses: v.messageStatuses,
    items: v.rows.map((r) =>
      r.messageId !== undefined
        ? { row: r.row, result: 'accepted', senderReference: r.senderReference, messageId: r.messageId, messageStatus: r.messageStatus }
        : {
            row: r.row,
            result: 'refused',
            senderReference: r.senderReference,
            problem: {
              type: `${PROBLEM_TYPE_BASE}${r.problem.code.toLowerCase().replace(/_/g, '-')}`,
              title: r.problem.code.toLowerCase().replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()),
              status: STATUS_OF[r.problem.code as ErrorCode] ?? 500,
              code: r.problem.code,
              detail: r.problem.detail,
              ...r.problem.extensions,
            },
          },
    ),
    next: v.cursor ? `/v1/messages/batches/${v.batch.id}?${new URLSearchParams({ ...(limit ? { limit } : {}), cursor: v.cursor })}` : null,
  };
}

