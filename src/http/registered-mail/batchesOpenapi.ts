/** The OpenAPI description of /v1/messages/batches (merged into src/http/openapi.ts). */
import type { Config } from '../../config.js';

const problem = { $ref: '#/components/responses/Problem' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const uuid = { type: 'string', format: 'uuid' };
const MESSAGE_STATUSES = ['RECEIVED', 'ACCEPTED', 'REJECTED', 'DEPOSITED', 'FAILED', 'CONSULTED', 'EXPIRED'];

function closed(properties: Record<string, unknown>, required: string[] = Object.keys(properties), extra: Record<string, unknown> = {}) {
  return { type: 'object', additionalProperties: false, required, properties, ...extra };
}

/** The members a refused row of BATCH_REFUSED has (a problem's, flattened). */
export const BATCH_REFUSED_ROW = closed(
  {
    row: { type: 'integer', minimum: 1 },
    senderReference: { type: 'string' },
    code: { type: 'string' },
    detail: { type: 'string' },
    part: { type: 'string' },
    allowed: { type: 'array', items: { type: 'string' } },
    limit: { type: 'integer' },
  },
  ['row', 'code', 'detail'],
);

export function batchSchemas(config: Config) {
  return {
    BatchManifestRow: {
      type: 'object',
      required: ['recipient', 'subject', 'documents'],
      description: 'one message: the metadata of POST /v1/messages, its documents named by file (or httpPartName)',
      properties: {
        recipient: ref('Recipient'),
        subject: ref('Subject'),
        senderReference: { type: ['string', 'null'], maxLength: 200 },
        documents: {
          type: 'array',
          minItems: 1,
          maxItems: config.intake.maxDocuments,
          items: {
            type: 'object',
            properties: {
              file: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$', description: 'the multipart part name, or the ZIP entry name' },
              httpPartName: { type: 'string', description: 'a synonym of `file`' },
              isMainContent: { type: 'boolean' },
              mediaType: { type: 'string', description: 'ZIP only: the type of the entry (default: after its extension)' },
            },
          },
        },
      },
    },
    Batch: closed({
      id: uuid,
      status: { enum: ['PROCESSING', 'DONE'], description: 'PROCESSING while a message of the batch has no proof yet (RECEIVED)' },
      form: { enum: ['multipart', 'zip'] },
      submittedAt: { type: 'string', format: 'date-time' },
      counts: closed({ rows: { type: 'integer', minimum: 1 }, accepted: { type: 'integer', minimum: 1 }, refused: { type: 'integer', minimum: 0 } }),
      messageStatuses: closed(Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, { type: 'integer', minimum: 1 }])), [], { description: 'how many of its messages are in each status now' }),
      items: {
        type: 'array',
        description: 'the rows, in manifest order (a page of them)',
        items: {
          oneOf: [
            closed({
              row: { type: 'integer', minimum: 1 },
              result: { const: 'accepted' },
              senderReference: { type: ['string', 'null'] },
              messageId: { ...uuid, description: 'GET /v1/messages/{messageId}: the message, as a single submission makes it' },
              messageStatus: { enum: MESSAGE_STATUSES },
            }),
            closed({
              row: { type: 'integer', minimum: 1 },
              result: { const: 'refused' },
              senderReference: { type: ['string', 'null'] },
              problem: { ...ref('Problem'), description: 'what POST /v1/messages answers for this row' },
            }),
          ],
        },
      },
      next: { type: ['string', 'null'], description: 'the next page of rows' },
    }),
  };
}

export function batchPaths(config: Config) {
  const b = config.batch;
  return {
    '/v1/messages/batches': {
      post: {
        summary: 'Submit a batch of registered messages',
        description: `A manifest (JSON array, or JSON lines: one BatchManifestRow per message) and the documents its rows name, as multipart/form-data (a \`manifest\` part first, then one file part per document, named by the row's \`file\`) or as application/zip (\`manifest.json\` or \`manifest.jsonl\` and the documents, flat). Each row becomes a registered message exactly as POST /v1/messages makes it, or is refused with the problem POST /v1/messages would answer; a refused row leaves nothing behind and does not stop the others. 201: the accepted messages, the batch and each row's outcome are durable. At most ${b.maxRows} rows and ${b.maxBytes} bytes (BATCH_TOO_LARGE); each document keeps the limits of POST /v1/messages. A hostile archive is refused whole: ARCHIVE_UNSAFE with its \`reason\`. Every row refused: 422 BATCH_REFUSED with \`rows\`. \`Idempotency-Key\` as for POST /v1/messages.`,
        parameters: [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 202 }, description: 'as for POST /v1/messages' }],
        requestBody: {
          required: true,
          content: {
            'multipart/form-data': {
              schema: {
                type: 'object',
                required: ['manifest'],
                properties: { manifest: { type: 'string', description: 'JSON array of BatchManifestRow, or JSON lines' } },
                additionalProperties: { type: 'string', contentMediaType: 'application/octet-stream' },
              },
            },
            'application/zip': { schema: { type: 'string', contentMediaType: 'application/zip' } },
          },
        },
        responses: {
          201: { description: 'the batch, durable, with its first page of rows', headers: { Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: ref('Batch') } } },
          400: problem,
          401: problem,
          409: problem,
          413: problem,
          415: problem,
          422: problem,
        },
      },
    },
    '/v1/messages/batches/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: 'One of the sender\'s batches: status, counts, each row\'s outcome and message status, a page at a time',
        parameters: [
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'from the previous page\'s `next`' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: { description: 'the batch', content: { 'application/json': { schema: ref('Batch') } } }, 400: problem, 401: problem, 404: problem },
      },
    },
  };
}
