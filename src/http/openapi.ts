/**
 * The OpenAPI 3.1 description of the HTTP API, served at /openapi.json.
 * test/integration/openapi.spec.ts checks that it lists exactly the routes the app
 * serves and that a real response of every operation and status it documents validates
 * against it, formats included. Every object of an answer is closed (`additionalProperties:
 * false`): a member the document does not name is a defect of the service or of the document.
 * Request schemas stay open where the service ignores members it does not know.
 */
import type { Config } from '../config.js';
import { EVIDENCE_TYPES, LANGUAGES } from '../domain/EvidenceStatement.js';
import { JOB_STATUSES } from '../worker/JobAdmin.js';
import { isGuarded } from './AuthGuard.js';
import { STATUS_OF } from './problem.js';
import { notificationPaths, notificationSchemas } from './notifications/openapi.js';
import { BATCH_REFUSED_ROW, batchPaths, batchSchemas } from './registered-mail/batchesOpenapi.js';

const problem = { $ref: '#/components/responses/Problem' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };
const uuid = { type: 'string', format: 'uuid' };
/** the rows a letter writes are named by UUIDs of version 7 (src/domain/RowId.ts) */
const rowId = { ...uuid, description: 'a UUID of version 7 (RFC 9562): it begins with the millisecond it was made, so identifiers sort by when they were made' };
const sha256 = { type: 'string', pattern: '^[0-9a-f]{64}$' };

/** An object of an answer: exactly these members (`required` of them always present). */
function closed(properties: Record<string, unknown>, required: string[] = Object.keys(properties), extra: Record<string, unknown> = {}) {
  return { type: 'object', additionalProperties: false, required, properties, ...extra };
}

/** `{"items": [...]}` */
const itemsOf = (items: unknown) => closed({ items: { type: 'array', items } });

const MESSAGE_STATUSES = ['RECEIVED', 'ACCEPTED', 'REJECTED', 'DEPOSITED', 'FAILED', 'CONSULTED', 'EXPIRED'];

const documentProperties = {
  httpPartName: { type: 'string' },
  fileName: { type: 'string' },
  mediaType: { type: 'string' },
  size: { type: 'integer', minimum: 1 },
  sha256,
  isMainContent: { type: 'boolean' },
};
const evidenceProperties = {
  id: rowId,
  type: { enum: [...EVIDENCE_TYPES] },
  sequence: { type: 'integer', minimum: 1 },
  sha256: { ...sha256, description: 'SHA-256 of the proof (DER)' },
  createdAt: dateTime,
  href: { type: 'string', description: 'the proof (DER)' },
  receipt: { type: 'string', description: 'its PDF receipt' },
};
const RECEIPT_DESCRIPTION =
  'A one- or two-page PDF in nl, fr, de or en: the event in words, issuer, sender, recipient (national number masked but for its last four digits), subject, event time in Brussels time and UTC, each document\'s name, size and SHA-256, the evidence identifier, the proof\'s digest and time-stamp, the previous proof\'s digest, and how to verify. The proof (.p7s) is attached to the PDF; the PDF is signed by the sealing key as PAdES B-T (SubFilter ETSI.CAdES.detached, signature time-stamp from the service\'s TSA). Made on request: the same proof and language give the same bytes but for the signature (/M and /Contents).';
/** The path parameters of a proof's routes: the message and the evidence. */
const EVIDENCE_PATH_PARAMETERS = [
  { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
  { name: 'evidenceId', in: 'path', required: true, schema: { type: 'string' } },
];
/** A proof's receipt: the path item, for the sender's route and the e-Box's. */
function receiptPath(summary: string, security?: unknown[]) {
  return {
    parameters: EVIDENCE_PATH_PARAMETERS,
    get: {
      summary,
      description: RECEIPT_DESCRIPTION,
      ...(security ? { security } : {}),
      parameters: [{ name: 'lang', in: 'query', required: false, schema: { enum: [...LANGUAGES] }, description: "the receipt's language; without it, Accept-Language, else the first language of the message's subject, else en" }],
      responses: {
        200: {
          description: 'the signed PDF',
          headers: { 'Content-Language': { schema: { enum: [...LANGUAGES] } }, 'Content-Disposition': { schema: { type: 'string' } } },
          content: { 'application/pdf': { schema: { type: 'string', contentMediaType: 'application/pdf' } } },
        },
        400: { ...problem, description: '`QUERY_INVALID`: `lang` is not nl, fr, de or en, or is given twice' },
        401: problem,
        404: problem,
        503: { ...problem, description: '`TSA_UNAVAILABLE` or `SIGNING_KEY_UNAVAILABLE`: the receipt cannot be signed now; try again after `Retry-After` seconds' },
      },
    },
  };
}
const RECORD_DESCRIPTION =
  "The proof's RFC 4998 EvidenceRecord (DER): the proof's digest (SHA-256 unless RECORD_HASH_ALGORITHM names SHA-384 or SHA-512) is a leaf of a hash tree whose root is time-stamped once, renewed before the TSA certificate expires; " +
  'the record is the reduced hash tree plus the chain of archive time-stamps, and one more chain for each hash-tree renewal into a newly named algorithm (docs/evidence-records.md). A proof enters a tree within RECORD_INTERVAL_MS of being sealed; before that the answer is 404 `EVIDENCE_RECORD_PENDING` with `Retry-After`.';

function recordPath(summary: string, security?: unknown[]) {
  return {
    parameters: EVIDENCE_PATH_PARAMETERS,
    get: {
      summary,
      description: RECORD_DESCRIPTION,
      ...(security ? { security } : {}),
      responses: {
        200: {
          description: 'the evidence record, named `<seq>-<type>.ers` (as beside the proof in an audit bundle)',
          headers: { 'Content-Disposition': { schema: { type: 'string' } } },
          content: { 'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
        },
        401: problem,
        404: {
          ...problem,
          description: '`NOT_FOUND`: no such message or proof for this caller; `EVIDENCE_RECORD_PENDING`: the proof is not in a time-stamped tree yet, ask again after `Retry-After` seconds',
          headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'with EVIDENCE_RECORD_PENDING: seconds until the next tree' } },
        },
      },
    },
  };
}
const messageSummaryProperties = {
  id: rowId,
  status: { enum: MESSAGE_STATUSES },
  recipient: ref('RecipientIdentifier'),
  subject: ref('Subject'),
  senderReference: { type: ['string', 'null'] },
  submittedAt: dateTime,
  updatedAt: dateTime,
  expiresAt: { ...nullableDateTime, description: 'not opened by then: ContentHandoverFailure' },
  href: { type: 'string' },
};
const mailboxProperties = {
  id: uuid,
  sender: { type: 'string' },
  subject: ref('Subject'),
  registered: { type: 'boolean' },
  depositedAt: dateTime,
  expiresAt: dateTime,
  read: { type: 'boolean' },
  firstReadAt: nullableDateTime,
  href: { type: 'string' },
};
const senderListItem = closed({ id: uuid, name: { type: 'string' }, createdAt: dateTime });

export function openApiDocument(config: Config) {
  return withOutages(withThrottling(document(config)));
}

/** The operations that answer without the database: liveness, this document, the built-in TSA. */
const WITHOUT_DATABASE = new Set(['/healthz', '/openapi.json', '/tsa']);

/**
 * Every other operation reaches the database (a credential is looked up and its last use
 * written, at the least): while the database does not answer it is 503 DATABASE_UNAVAILABLE,
 * while the database's disk is full 507 STORAGE_FULL, both with Retry-After (src/store/outage.ts).
 */
function withOutages<T extends { paths: Record<string, object> }>(doc: T): T {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (WITHOUT_DATABASE.has(path)) continue;
    for (const [method, op] of Object.entries(item as Record<string, { responses: Record<string, unknown> }>)) {
      if (method === 'parameters') continue;
      op.responses[503] ??= { ...problem, description: '`DATABASE_UNAVAILABLE`: the database does not answer; try again after `Retry-After` seconds' };
      op.responses[507] ??= { ...problem, description: '`STORAGE_FULL`: no room left to write; try again after `Retry-After` seconds' };
    }
  }
  return doc;
}

/**
 * Every operation behind the AuthGuard (src/http/AuthGuard.ts) can be answered 429
 * RATE_LIMITED with Retry-After, before its credential is looked at: the address failed
 * authentication too often.
 */
function withThrottling<T extends { paths: Record<string, object> }>(doc: T): T {
  for (const [path, item] of Object.entries(doc.paths)) {
    if (!isGuarded(path)) continue;
    for (const [method, op] of Object.entries(item as Record<string, { responses: Record<string, unknown> }>)) {
      if (method === 'parameters' || op.responses[429]) continue;
      op.responses[429] = { ...problem, description: '`RATE_LIMITED`: this address failed authentication too often; try again after `Retry-After` seconds' };
    }
  }
  return doc;
}

function document(config: Config) {
  const errorCodes = Object.keys(STATUS_OF);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Registered electronic mail trust service',
      version: '1.0.0',
      description:
        'Senders submit documents for delivery to a citizen\'s or enterprise\'s e-Box and receive CAdES-T proofs (CMS signature + RFC 3161 time-stamp) of every step. A missing, malformed, unknown, revoked or expired credential, or one of another kind, is answered 401 `UNAUTHENTICATED` with `WWW-Authenticate` (a provider callback: 401 `CALLBACK_SIGNATURE_INVALID`); `Authorization` is one header line. An address that fails authentication too often is answered 429 `RATE_LIMITED` with `Retry-After` on every authenticated route for a while, whatever it then presents.',
    },
    servers: [{ url: '/' }],
    components: {
      securitySchemes: {
        senderKey: { type: 'http', scheme: 'bearer', description: 'sender API key (`npm run sender:create`)' },
        recipientToken: { type: 'http', scheme: 'bearer', description: 'built-in e-Box recipient token (`npm run recipient:create` or POST /v1/admin/recipients)' },
        senderCertificate: {
          type: 'mutualTLS',
          description: 'a TLS client certificate that chains to TLS_CLIENT_CA_FILE and is registered to the sender (POST /v1/admin/senders/{id}/credentials)',
        },
        adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' },
        metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN' },
      },
      responses: {
        Problem: {
          description: 'RFC 9457 problem details with a stable `code`',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
      schemas: {
        Clerk: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer', 'subject', 'senderId', 'name', 'createdAt'],
          description: 'A person of the identity provider who signs in to a sender\'s console; no password is kept',
          properties: {
            issuer: { type: 'string' },
            subject: { type: 'string' },
            senderId: { type: 'string', format: 'uuid' },
            name: { type: ['string', 'null'] },
            createdAt: { type: 'string', format: 'date-time' },
          },
        },
        Credential: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'kind', 'name', 'hint', 'state', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
          description: 'A sender\'s credential; its secret is never shown again after it is issued',
          properties: {
            id: { type: 'string', format: 'uuid' },
            kind: { enum: ['api_key', 'tls_client_certificate'] },
            name: { type: 'string' },
            hint: { type: ['string', 'null'], description: 'the first characters of an API key, or a certificate\'s subject' },
            state: { enum: ['active', 'expired', 'revoked'] },
            createdAt: { type: 'string', format: 'date-time' },
            lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'written at most once a minute' },
            expiresAt: { type: ['string', 'null'], format: 'date-time' },
            revokedAt: { type: ['string', 'null'], format: 'date-time' },
          },
        },
        ...notificationSchemas(),
        ...batchSchemas(config),
        Problem: closed(
          {
            type: { type: 'string', format: 'uri' },
            title: { type: 'string' },
            status: { type: 'integer', minimum: 400, maximum: 599 },
            code: { type: 'string', enum: errorCodes },
            detail: { type: 'string' },
            correlationId: { ...uuid, description: 'for 5xx: quote it to the operator' },
            part: { type: 'string', description: 'the multipart part concerned, where one is' },
            allowed: { type: 'array', items: { type: 'string' }, description: '`DOCUMENT_MEDIA_TYPE_NOT_ALLOWED`: the media types allowed' },
            limit: { type: 'integer', description: '`DOCUMENT_TOO_LARGE`: the largest document, in bytes; `BATCH_TOO_LARGE`: the limit passed (rows or bytes)' },
            reason: {
              enum: ['PATH_TRAVERSAL', 'DUPLICATE_ENTRY', 'LINK_OR_DEVICE', 'ENCRYPTED', 'COMPRESSION_RATIO', 'TOO_MANY_ENTRIES'],
              description: '`ARCHIVE_UNSAFE`: what makes the ZIP archive unsafe',
            },
            entry: { type: 'string', description: '`ARCHIVE_UNSAFE`: the archive entry concerned' },
            rows: { type: 'array', items: BATCH_REFUSED_ROW, description: '`BATCH_REFUSED`: each row and the problem it was refused with' },
            batchId: { ...uuid, description: '`IDEMPOTENCY_KEY_REUSED` on /v1/messages/batches or /v1/notifications/batches: the batch the key was first used for' },
            messageId: { ...uuid, description: '`IDEMPOTENCY_KEY_REUSED` on /v1/messages: the message the key was first used for' },
            notificationId: { ...uuid, description: '`IDEMPOTENCY_KEY_REUSED` on /v1/notifications: the notification the key was first used for; `NOTIFICATION_NOT_CANCELLABLE`: the notification' },
            retryAfter: { type: 'integer', description: '`RATE_LIMITED` on /v1/notifications: seconds, as Retry-After' },
            placeholder: { type: 'string', description: '`NOTIFICATION_INVALID`: the placeholder without a value' },
            encoding: { enum: ['GSM-7', 'UCS-2'], description: '`SMS_TOO_LONG`: the encoding the text needs' },
            parts: { type: 'integer', description: '`SMS_TOO_LONG`: the parts it would take' },
            maxParts: { type: 'integer', description: '`SMS_TOO_LONG`: the parts allowed' },
            units: { type: 'integer', description: '`SMS_TOO_LONG`: its length in encoding units' },
            nonGsmCharacters: { type: 'array', items: { type: 'string' }, description: '`SMS_TOO_LONG`: characters that make it UCS-2 (at most 20)' },
          },
          ['type', 'title', 'status', 'code'],
        ),
        Recipient: {
          type: 'object',
          required: ['type', 'id'],
          description: 'in a request; members other than these are ignored',
          properties: {
            type: { enum: ['citizen', 'enterprise'] },
            id: { type: 'string', description: 'INSZ/NISS (11 digits) for a citizen, KBO/BCE (10 digits) for an enterprise; mod-97 checked' },
          },
        },
        RecipientIdentifier: closed({
          type: { enum: ['citizen', 'enterprise'] },
          id: { type: 'string', pattern: '^[0-9]{10,11}$', description: 'INSZ/NISS (11 digits) or KBO/BCE (10 digits), digits only' },
        }),
        Subject: {
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: Object.fromEntries(['nl', 'fr', 'de', 'en'].map((l) => [l, { type: 'string', minLength: 1, maxLength: 255 }])),
        },
        SubmissionMetadata: {
          type: 'object',
          required: ['recipient', 'subject', 'documents'],
          properties: {
            recipient: { $ref: '#/components/schemas/Recipient' },
            subject: { $ref: '#/components/schemas/Subject' },
            senderReference: { type: ['string', 'null'], maxLength: 200 },
            documents: {
              type: 'array',
              minItems: 1,
              maxItems: config.intake.maxDocuments,
              items: {
                type: 'object',
                required: ['httpPartName'],
                properties: {
                  httpPartName: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
                  isMainContent: { type: 'boolean', description: 'exactly one document is the main one' },
                },
              },
            },
          },
        },
        Document: closed(documentProperties),
        EvidenceSummary: closed(evidenceProperties),
        EvidenceWithStatement: closed({
          ...evidenceProperties,
          statement: { type: 'object', description: 'the evidence statement the proof envelops (ETSI EN 319 522-2 field names)' },
        }),
        MessageSummary: closed(messageSummaryProperties),
        MailboxEntry: closed(
          {
            ...mailboxProperties,
            documents: { type: 'array', items: closed({ ...documentProperties, href: { type: 'string' } }), description: 'in GET /v1/ebox/messages/{id} only' },
          },
          Object.keys(mailboxProperties),
        ),
        Job: closed({
          id: { type: 'integer' },
          type: { type: 'string' },
          messageId: { type: ['string', 'null'], format: 'uuid' },
          status: { enum: [...JOB_STATUSES] },
          attempts: { type: 'integer', minimum: 0 },
          maxAttempts: { type: 'integer', minimum: 1 },
          runAt: dateTime,
          lastError: { type: ['string', 'null'] },
        }),
        Message: closed(
          {
            ...messageSummaryProperties,
            eboxMessageId: { type: ['string', 'null'] },
            documentsPurgedAt: { ...nullableDateTime, description: 'document bytes removed at the end of retention; evidence stays' },
            documents: { type: 'array', items: ref('Document') },
            evidence: { type: 'array', items: ref('EvidenceSummary') },
            callbacks: {
              type: 'array',
              description: 'webhook deliveries of status changes',
              items: closed({
                evidenceId: uuid,
                status: { enum: MESSAGE_STATUSES },
                delivery: { enum: [...JOB_STATUSES] },
                attempts: { type: 'integer', minimum: 0 },
                lastError: {
                  type: ['string', 'null'],
                  pattern: '^(TIMEOUT|TARGET_FORBIDDEN|CONNECTION_FAILED|HTTP_[0-9]{3}|WEBHOOK_REMOVED|INTERNAL)$',
                  description:
                    'the class of the last failed attempt, never more: `TIMEOUT` (no answer in time), `TARGET_FORBIDDEN` (the target is or resolved to a refused address: not retried), `CONNECTION_FAILED` (refused, reset, DNS or TLS failure), `HTTP_<status>` (a non-2xx answer), `WEBHOOK_REMOVED`, `INTERNAL`',
                },
                nextAttemptAt: nullableDateTime,
              }),
            },
            events: {
              type: 'array',
              description: 'in GET /v1/messages/{id}; not in the answer to a submission',
              items: closed({ sequence: { type: 'integer', minimum: 1 }, type: { type: 'string' }, at: dateTime, data: { type: 'object', description: 'what the event records; its members depend on its type' } }),
            },
          },
          [...Object.keys(messageSummaryProperties), 'eboxMessageId', 'documentsPurgedAt', 'documents', 'evidence', 'callbacks'],
        ),
      },
    },
    security: [{ senderKey: [] }, { senderCertificate: [] }],
    paths: {
      ...notificationPaths(config),
      ...batchPaths(config),
      '/healthz': {
        get: {
          summary: 'Liveness: the process answers (it does not look at the database; see /readyz)',
          security: [],
          responses: { 200: { description: 'up', content: { 'application/json': { schema: closed({ status: { const: 'ok' } }) } } } },
        },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the database answers and the blob store has room and takes writes',
          description: '503 DATABASE_UNAVAILABLE, 507 STORAGE_FULL or 503 SIGNING_KEY_UNAVAILABLE (a key in a PKCS#11 token that does not sign), with Retry-After while one is out; the problem\'s detail says which.',
          security: [],
          responses: {
            200: {
              description: 'ready',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['status', 'checks'],
                    properties: {
                      status: { const: 'ready' },
                      checks: { type: 'object', additionalProperties: false, required: ['database', 'storage'], properties: { database: { const: 'ok' }, storage: { const: 'ok' }, signingKeys: { const: 'ok', description: 'present when a key is in a PKCS#11 token' } } },
                    },
                  },
                },
              },
            },
            503: problem,
            507: problem,
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics: jobs by type and status (dead letters), messages by status, refused credentials',
          description: 'Behind METRICS_TOKEN; closed without it. METRICS_PORT serves it without a token on a listener of its own.',
          security: [{ metricsToken: [] }],
          responses: { 200: { description: 'text exposition format', content: { 'text/plain': {} } }, 401: problem, 429: problem },
        },
      },
      '/openapi.json': {
        get: {
          summary: 'This document',
          security: [],
          responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object', required: ['openapi', 'info', 'paths', 'components'], properties: { openapi: { const: '3.1.0' } } } } } } },
        },
      },
      '/tsa': {
        post: {
          summary: 'RFC 3161 time-stamping (built-in TSA)',
          description: 'Present when the built-in TSA is in use. Rejected requests are answered 200 with a TimeStampResp whose PKIStatus is rejection (RFC 3161 §2.4.2).',
          security: [],
          requestBody: { required: true, content: { 'application/timestamp-query': { schema: { type: 'string', contentMediaType: 'application/timestamp-query' } } } },
          responses: {
            200: { description: 'TimeStampResp (DER)', content: { 'application/timestamp-reply': { schema: { type: 'string', contentMediaType: 'application/timestamp-reply' } } } },
            415: problem,
          },
        },
      },
      '/v1/messages': {
        get: {
          summary: 'The sender\'s messages, newest first, with cursor pagination',
          parameters: [
            { name: 'status', in: 'query', schema: { enum: ['RECEIVED', 'ACCEPTED', 'REJECTED', 'DEPOSITED', 'FAILED', 'CONSULTED', 'EXPIRED'] } },
            { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'submitted at or after' },
            { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'from the previous page\'s `next`' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          ],
          responses: {
            200: {
              description: 'a page',
              content: {
                'application/json': {
                  schema: closed({ items: { type: 'array', items: ref('MessageSummary') }, next: { type: ['string', 'null'], description: 'the next page, with the same filters' } }),
                },
              },
            },
            400: problem,
            401: problem,
          },
        },
        post: {
          summary: 'Submit a registered message',
          description:
            'multipart/form-data with a `metadata` part (JSON, SubmissionMetadata) and one part per document, named as metadata.documents[].httpPartName. Documents are streamed to disk while hashed. Any 2xx means the documents and the message are durable. 201: the first proof (SubmissionAcceptance or SubmissionRejection) is sealed and listed in `evidence` (with SUBMIT_SEAL=intake, the default, it is sealed before the message commits and written with it); 202: it is still being sealed (e.g. the TSA is unavailable) and will appear. With `Idempotency-Key` (RFC 8941 string, a UUID recommended), a retry of the same request returns the same message (header `Idempotent-Replayed: true`); the same key with another request is 409. With `Prefer: respond-async` the answer comes as soon as the message is durable, without waiting for its first proof (202 with the message as it was committed, RECEIVED and no proof yet, unless the proof was announced meanwhile; or 201 for a replay whose proof is sealed; header `Preference-Applied: respond-async`).',
          parameters: [{ name: 'Prefer', in: 'header', schema: { type: 'string' }, description: 'respond-async' }, { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 202 }, description: 'RFC 8941 string or bare token, 1–200 printable ASCII characters; one header line only (two lines are 400 IDEMPOTENCY_KEY_INVALID)' }],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['metadata'],
                  properties: { metadata: { $ref: '#/components/schemas/SubmissionMetadata' } },
                  additionalProperties: { type: 'string', contentMediaType: 'application/octet-stream' },
                },
              },
            },
          },
          responses: {
            201: {
              description: 'Durable, and its first proof sealed (`evidence`)',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } },
            },
            202: {
              description: 'Durable; its first proof is still being sealed',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } },
            },
            400: problem,
            409: problem,
            401: problem,
            413: problem,
            415: problem,
            422: problem,
            429: problem,
            503: problem,
            507: problem,
          },
        },
      },
      '/v1/messages/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary: 'Status, documents, evidence and events of one of the sender\'s messages',
          responses: { 200: { description: 'the message', content: { 'application/json': { schema: { $ref: '#/components/schemas/Message' } } } }, 401: problem, 404: problem },
        },
      },
      '/v1/messages/{id}/evidence': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary: 'The proofs issued for a message, in order',
          responses: {
            200: {
              description: 'list',
              content: { 'application/json': { schema: itemsOf(ref('EvidenceSummary')) } },
            },
            401: problem,
            404: problem,
          },
        },
      },
      '/v1/webhook': {
        put: {
          summary: 'Set the sender\'s webhook: each status change is POSTed there, signed `Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`',
          description:
            'The URL must be http(s), at most 2,000 characters without control characters, and without credentials (`WEBHOOK_INVALID`), and its host a public address or a name that resolves only to public addresses (`WEBHOOK_TARGET_FORBIDDEN`: loopback, private, link-local, CGNAT, unspecified, multicast, reserved, IPv6 unique-local and link-local, IPv4 embedded in IPv6, or a name that does not resolve). Any port. Each delivery checks the address it connects to again, follows no redirect and reads at most a few KiB of the answer.',
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['url'], properties: { url: { type: 'string', format: 'uri', maxLength: 2000 } } } } } },
          responses: {
            200: {
              description: 'the secret is shown once',
              content: { 'application/json': { schema: closed({ url: { type: 'string', format: 'uri' }, secret: { type: 'string' }, signatureHeader: { const: 'Webhook-Signature' } }) } },
            },
            401: problem,
            422: { ...problem, description: '`WEBHOOK_INVALID` or `WEBHOOK_TARGET_FORBIDDEN`' },
          },
        },
        delete: { summary: 'Remove the webhook', responses: { 204: { description: 'removed' }, 401: problem } },
      },
      '/v1/ebox/messages': {
        get: {
          summary: 'The recipient\'s e-Box (built-in e-Box)',
          security: [{ recipientToken: [] }],
          responses: {
            200: { description: 'mailbox', content: { 'application/json': { schema: itemsOf(ref('MailboxEntry')) } } },
            401: problem,
          },
        },
      },
      '/v1/ebox/messages/{id}': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary: 'One message of the recipient\'s e-Box with its documents (reading this is not a handover)',
          security: [{ recipientToken: [] }],
          responses: { 200: { description: 'entry', content: { 'application/json': { schema: { $ref: '#/components/schemas/MailboxEntry' } } } }, 401: problem, 404: problem },
        },
      },
      '/v1/ebox/messages/{id}/evidence': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: {
          summary: 'The proofs of a message in the recipient\'s e-Box, in order (every proof of the message concerns its recipient)',
          security: [{ recipientToken: [] }],
          responses: { 200: { description: 'list', content: { 'application/json': { schema: itemsOf(ref('EvidenceSummary')) } } }, 401: problem, 404: problem },
        },
      },
      '/v1/ebox/messages/{id}/evidence/{evidenceId}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'evidenceId', in: 'path', required: true, schema: { type: 'string' } },
        ],
        get: {
          summary: 'One proof of the message: the CAdES-T signature (DER .p7s)',
          security: [{ recipientToken: [] }],
          responses: { 200: { description: 'the proof', content: { 'application/pkcs7-mime': { schema: { type: 'string', contentMediaType: 'application/pkcs7-mime' } } } }, 401: problem, 404: problem },
        },
      },
      '/v1/ebox/messages/{id}/evidence/{evidenceId}/record': recordPath('The evidence record of one proof of the message (as /v1/messages/{id}/evidence/{evidenceId}/record)', [{ recipientToken: [] }]),
      '/v1/ebox/messages/{id}/evidence/{evidenceId}/receipt.pdf': receiptPath('One proof of the message as a PDF receipt (as /v1/messages/{id}/evidence/{evidenceId}/receipt.pdf)', [{ recipientToken: [] }]),
      '/v1/ebox/messages/{id}/documents/{position}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'position', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } },
        ],
        get: {
          summary: 'Download a document; the first complete download records the handover (ContentHandover proof for the sender); one broken off records none',
          security: [{ recipientToken: [] }],
          responses: {
            200: {
              description: 'the bytes, with the media type the sender gave the document and a Digest header (SHA-256)',
              headers: { Digest: { schema: { type: 'string', pattern: '^sha-256=' } }, 'Content-Disposition': { schema: { type: 'string' } } },
              content: { '*/*': { schema: { description: 'the document' } } },
            },
            401: problem,
            404: problem,
            410: { ...problem, description: '`DOCUMENT_PURGED`: removed at the end of its retention period' },
          },
        },
      },
      '/v1/admin/recipients': {
        post: {
          summary: 'Register a recipient of the built-in e-Box; its token is shown once',
          security: [{ adminToken: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { type: 'object', required: ['type', 'id'], properties: { type: { enum: ['citizen', 'enterprise'] }, id: { type: 'string' }, activated: { type: 'boolean', default: true }, name: { type: 'string', minLength: 1, maxLength: 200 } } } } },
          },
          responses: {
            201: {
              description: 'registered',
              content: { 'application/json': { schema: closed({ type: { enum: ['citizen', 'enterprise'] }, id: { type: 'string' }, activated: { type: 'boolean' }, token: { type: 'string', description: 'shown once' } }) } },
            },
            401: problem,
            409: problem,
            422: problem,
          },
        },
      },
      '/v1/admin/recipients/{type}/{id}': {
        parameters: [
          { name: 'type', in: 'path', required: true, schema: { enum: ['citizen', 'enterprise'] } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        ],
        patch: {
          summary: 'Activate or deactivate a recipient\'s e-Box',
          security: [{ adminToken: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['activated'], properties: { activated: { type: 'boolean' } } } } } },
          responses: { 204: { description: 'changed' }, 401: problem, 404: problem },
        },
      },
      '/v1/admin/senders': {
        post: {
          summary: 'Create a sender with a first API key (named "default"), shown once',
          security: [{ adminToken: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 200 } } } } } },
          responses: {
            201: {
              description: 'created',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['id', 'name', 'createdAt', 'credential', 'apiKey'],
                    properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' }, credential: { $ref: '#/components/schemas/Credential' }, apiKey: { type: 'string' } },
                  },
                },
              },
            },
            401: problem,
            422: problem,
          },
        },
        get: {
          summary: 'The senders',
          security: [{ adminToken: [] }],
          responses: {
            200: {
              description: 'senders',
              content: {
                'application/json': {
                  schema: itemsOf(senderListItem),
                },
              },
            },
            401: problem,
          },
        },
      },
      '/v1/admin/senders/{id}/credentials': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        get: {
          summary: 'A sender\'s credentials (API keys and client certificates), revoked and expired ones included',
          security: [{ adminToken: [] }],
          responses: {
            200: { description: 'credentials', content: { 'application/json': { schema: itemsOf(ref('Credential')) } } },
            401: problem,
            404: problem,
          },
        },
        post: {
          summary: 'Issue a new API key (shown once), or register a TLS client certificate (PEM) for mutual TLS',
          security: [{ adminToken: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    kind: { enum: ['api_key', 'tls_client_certificate'], default: 'api_key' },
                    name: { type: 'string', maxLength: 100 },
                    expiresAt: { type: 'string', format: 'date-time', description: 'API keys: when it stops working (certificates expire with the certificate)' },
                    certificate: { type: 'string', description: 'tls_client_certificate: the certificate, PEM' },
                  },
                },
              },
            },
          },
          responses: {
            201: {
              description: 'issued',
              content: {
                'application/json': {
                  schema: { type: 'object', additionalProperties: false, required: ['credential'], properties: { credential: { $ref: '#/components/schemas/Credential' }, apiKey: { type: 'string' } } },
                },
              },
            },
            401: problem,
            404: problem,
            409: problem,
            422: problem,
          },
        },
      },
      '/v1/admin/senders/{id}/clerks': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
        get: {
          summary: 'The clerks of a sender: the identities of the identity provider that sign in to its console (docs/pages.md)',
          security: [{ adminToken: [] }],
          responses: { 200: { description: 'clerks', content: { 'application/json': { schema: itemsOf(ref('Clerk')) } } }, 401: problem, 404: problem },
        },
        post: {
          summary: 'Map an identity (issuer and subject of its ID tokens) to the sender: that person signs in as its clerk, at once. Mapping it again changes its name.',
          security: [{ adminToken: [] }],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['subject'],
                  properties: {
                    subject: { type: 'string', maxLength: 255, description: 'the `sub` claim of the person\'s ID tokens' },
                    issuer: { type: 'string', format: 'uri', maxLength: 500, description: 'the identity provider (`iss`); default: OIDC_ISSUER' },
                    name: { type: 'string', maxLength: 200 },
                  },
                },
              },
            },
          },
          responses: {
            201: { description: 'mapped', content: { 'application/json': { schema: ref('Clerk') } } },
            401: problem,
            404: problem,
            409: { ...problem, description: '`CLERK_EXISTS`: this identity is the clerk of another sender' },
            422: { ...problem, description: '`CLERK_INVALID`: no subject, or no issuer when OIDC_ISSUER is not set, or one that is not an http(s) URL' },
          },
        },
        delete: {
          summary: 'Unmap a clerk: their sessions lose the sender\'s console at their next request',
          security: [{ adminToken: [] }],
          parameters: [
            { name: 'subject', in: 'query', required: true, schema: { type: 'string', maxLength: 255 } },
            { name: 'issuer', in: 'query', required: false, schema: { type: 'string', format: 'uri', maxLength: 500 }, description: 'default: OIDC_ISSUER' },
          ],
          responses: { 204: { description: 'unmapped' }, 401: problem, 404: problem, 422: problem },
        },
      },
      '/v1/admin/senders/{id}/credentials/{credentialId}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          { name: 'credentialId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        ],
        delete: { summary: 'Revoke a credential, at once in every process', security: [{ adminToken: [] }], responses: { 204: { description: 'revoked' }, 401: problem, 404: problem } },
      },
      '/v1/admin/senders/{id}/credentials/{credentialId}/rotate': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
          { name: 'credentialId', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } },
        ],
        post: {
          summary: 'Replace an API key by a new one of the same name; the old one works for graceSeconds more (0: revoked at once)',
          security: [{ adminToken: [] }],
          requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { graceSeconds: { type: 'integer', minimum: 0, maximum: 2592000, default: 0 } } } } } },
          responses: {
            201: {
              description: 'the new key, shown once, and the old one as it now is',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['credential', 'apiKey', 'previous'],
                    properties: { credential: { $ref: '#/components/schemas/Credential' }, apiKey: { type: 'string' }, previous: { $ref: '#/components/schemas/Credential' } },
                  },
                },
              },
            },
            401: problem,
            404: problem,
            422: problem,
          },
        },
      },
      '/v1/admin/recipients/{type}/{id}/token': {
        parameters: [
          { name: 'type', in: 'path', required: true, schema: { enum: ['citizen', 'enterprise'] } },
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
        ],
        post: {
          summary: 'Issue a new e-Box access token (shown once); the previous one stops working at once',
          security: [{ adminToken: [] }],
          responses: { 201: { description: 'issued', content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: { type: 'string' } } } } } }, 401: problem, 404: problem },
        },
        delete: { summary: 'Withdraw the recipient\'s access token at once', security: [{ adminToken: [] }], responses: { 204: { description: 'revoked' }, 401: problem, 404: problem } },
      },
      '/v1/admin/jobs': {
        get: {
          summary: 'The job queue (status=dead lists the dead letters)',
          security: [{ adminToken: [] }],
          parameters: [{ name: 'status', in: 'query', schema: { enum: [...JOB_STATUSES] } }],
          responses: { 200: { description: 'jobs', content: { 'application/json': { schema: itemsOf(ref('Job')) } } }, 401: problem },
        },
      },
      '/v1/admin/jobs/{id}/retry': {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        post: { summary: 'Put a dead job back in the queue', security: [{ adminToken: [] }], responses: { 204: { description: 'queued' }, 401: problem, 404: problem } },
      },
      '/v1/messages/{id}/evidence/{evidenceId}': {
        parameters: [
          { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
          { name: 'evidenceId', in: 'path', required: true, schema: { type: 'string' } },
        ],
        get: {
          summary: 'One proof: the CAdES-T signature (DER .p7s), or its decoded statement with Accept: application/json',
          responses: {
            200: {
              description: 'the proof',
              content: {
                'application/pkcs7-mime': { schema: { type: 'string', contentMediaType: 'application/pkcs7-mime' } },
                'application/json': { schema: { $ref: '#/components/schemas/EvidenceWithStatement' } },
              },
            },
            401: problem,
            404: problem,
            406: problem,
          },
        },
      },
      '/v1/messages/{id}/evidence/{evidenceId}/record': recordPath('The RFC 4998 evidence record of one proof, which keeps it provable after its keys expire'),
      '/v1/messages/{id}/evidence/{evidenceId}/receipt.pdf': receiptPath('One proof as a PDF receipt a person can read: the proof in words, the proof attached, sealed PAdES B-T'),
    },
  };
}
