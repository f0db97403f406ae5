/**
 * /v1/messages: submit a registered message (multipart, streamed), read its status and
 * events, list and download its evidence.
 */
import busboy from 'busboy';
import { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { ServiceError } from '../../domain/errors.js';
import type { ConsultService } from '../../services/consult.js';
import type { Accepted, Intake, SubmissionService } from '../../services/submit.js';
import type { Store } from '../../store/Store.js';
import { requireSender, senderOf } from '../auth.js';
import { sendProblem } from '../problem.js';
import { evidenceJson, evidenceSummary, messageJson } from '../views.js';

export function messagesRouter(deps: { store: Store; submissions: SubmissionService; consult: ConsultService; log: Logger }): Router {
  const r = Router();
  r.use('/v1/messages', requireSender(deps.store));

  r.post('/v1/messages', async (req, res) => {
    const sender = senderOf(res);
    if (!req.is('multipart/form-data')) {
      throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the message as multipart/form-data: a "metadata" JSON part and the document parts');
    }
    const intake = deps.submissions.begin(sender);
    let accepted: Accepted;
    try {
      await readMultipart(req, intake, deps.submissions.limits.maxMetadataBytes);
      accepted = await intake.finish();
    } catch (err) {
      await intake.abort();
      // The client may still be sending: answer, then close the connection.
      res.setHeader('Connection', 'close');
      return sendProblem(res, err, deps.log);
    }
    res.status(201).location(`/v1/messages/${accepted.message.id}`).json(
      messageJson({ message: accepted.message, documents: accepted.documents, events: [], evidence: [accepted.evidence] }, { includeEvents: false }),
    );
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
    res
      .status(200)
      .type('application/pkcs7-mime; smime-type=signed-data')
      .setHeader('Content-Disposition', `attachment; filename="${e.type}-${e.id}.p7s"`)
      .send(Buffer.from(e.der));
  });

  return r;
}

/** Feeds the multipart body to the intake, streaming each file part. Resolves when the body has been read. */
function readMultipart(req: Request, intake: Intake, maxMetadataBytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'utf8',
        limits: { fieldSize: maxMetadataBytes, fields: 10, parts: 50, headerPairs: 50 },
      });
    } catch (err) {
      return reject(new ServiceError('MALFORMED_REQUEST', 'the multipart body cannot be read (missing boundary?)', { cause: err }));
    }
    bb.on('field', (name, value, info) => {
      if (name === 'metadata') intake.setMetadata(value, info.valueTruncated);
      else intake.fail(new ServiceError('METADATA_INVALID', `unexpected form field "${name}": documents must be sent as file parts`, { extensions: { part: name } }));
    });
    bb.on('file', (name, stream, info) => {
      if (name === 'metadata') {
        // metadata sent as a file part (curl -F metadata=@meta.json;type=application/json)
        intake.readMetadata(stream);
        return;
      }
      intake.addDocument(name, info.filename, info.mimeType, stream);
    });
    bb.on('partsLimit', () => intake.fail(new ServiceError('TOO_MANY_DOCUMENTS', 'too many parts in the request')));
    bb.on('fieldsLimit', () => intake.fail(new ServiceError('METADATA_INVALID', 'too many form fields')));
    bb.on('error', (err) => reject(new ServiceError('MALFORMED_REQUEST', 'the multipart body is malformed', { cause: err })));
    bb.on('close', () => resolve());
    req.on('aborted', () => reject(new ServiceError('MALFORMED_REQUEST', 'the client aborted the upload')));
    req.pipe(bb);
  });
}
