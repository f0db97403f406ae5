/**
 * The OpenAPI 3.1 description of the notification routes (notifications.ts and
 * admin.ts), merged into the service's document by http/openapi.ts.
 */
import type { Config } from '../../config.js';
import { ATTEMPT_STATUSES, BUILTIN_STRATEGY_NAMES, BUILTIN_TEMPLATES, KEYWORDS, NOTIFICATION_LANGUAGES, NOTIFICATION_STATUSES } from '../../notifications/service.js';

const problem = { $ref: '#/components/responses/Problem' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: unknown) => ({ required: true, content: { 'application/json': { schema } } });
const jsonResponse = (description: string, schema: unknown) => ({ description, content: { 'application/json': { schema } } });
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const dateTime = { type: 'string', format: 'date-time' };
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' };
const CHANNELS = ['GOVAPP', 'SMS'];
const LANGUAGES = [...NOTIFICATION_LANGUAGES];
const E164 = '^\\+[1-9][0-9]{6,14}$';
/** An object of an answer: exactly these members (`required` of them always present; all by default). */
function closed(properties: Record<string, unknown>, required: string[] = Object.keys(properties), extra: Record<string, unknown> = {}) {
  return { type: 'object', additionalProperties: false, required, properties, ...extra };
}
const recipientPath = [
  { name: 'type', in: 'path', required: true, schema: { enum: ['citizen', 'enterprise'] } },
  { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'INSZ/NISS or KBO/BCE' },
];
const monthParam = { name: 'month', in: 'query', schema: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' }, description: 'UTC month, default the current one' };

/** The opt-out keywords, for the document: "OPT_OUT: STOP, STOPP, …; OPT_OUT_ALL: …". */
function keywordList(): string {
  return Object.entries(KEYWORDS)
    .map(([action, words]) => `${action}: ${words.map((w) => w.word).join(', ')}`)
    .join('; ');
}

export function notificationSchemas() {
  const contentParts = {
    type: 'object',
    additionalProperties: false,
    properties: {
      title: { type: 'string', maxLength: 500, description: 'GovApp title: plain text, travels in clear (at most 100 characters once rendered)' },
      html: { type: 'string', maxLength: 65536, description: 'GovApp body: sanitised (allow-list), then end-to-end encrypted to each device' },
      sms: { type: 'string', maxLength: 2000, description: 'SMS text: GSM-7 (160/153 per part) or UCS-2 (70/67 per part); more parts than allowed is 422 SMS_TOO_LONG' },
    },
  };
  return {
    NotificationRequest: {
      type: 'object',
      additionalProperties: false,
      description: 'Exactly one of recipient / phoneNumber, and exactly one of template / content. Placeholders `{name}` are filled from `values` (`{sender}` is your name).',
      properties: {
        recipient: ref('Recipient'),
        phoneNumber: { type: 'string', description: 'E.164 mobile number, e.g. +32470123456' },
        strategy: { enum: [...BUILTIN_STRATEGY_NAMES], description: 'default: your default strategy (GET /v1/notifications/settings)' },
        language: { enum: LANGUAGES, description: "default: the recipient's preferred language from the directory" },
        template: { enum: [...BUILTIN_TEMPLATES.keys()] },
        content: { type: 'object', additionalProperties: false, minProperties: 1, properties: Object.fromEntries(LANGUAGES.map((l) => [l, contentParts])) },
        values: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
        reference: { type: 'string', maxLength: 200 },
        smsTransliterate: { type: 'boolean', description: 'apply the documented GSM-7 transliteration rule (ë→e, ç→c, curly quotes→straight) when it makes the text GSM-7' },
        sendAt: {
          type: 'string',
          format: 'date-time',
          description: 'RFC 3339 with its offset: the notification is SCHEDULED (answered 202 at once) and dispatched then; at most 90 days ahead; up to 5 minutes in the past is taken as now, earlier is 422 NOTIFICATION_INVALID',
        },
        validUntil: {
          type: 'string',
          format: 'date-time',
          description: `RFC 3339 with its offset: not handed to a provider by then, the notification (or its SMS fallback) is EXPIRED (VALIDITY_ELAPSED). Later than sendAt (or now), at most 90 days after it; default sendAt (or now) + NOTIFY_DEFAULT_VALIDITY_SECONDS (24 hours unless configured)`,
        },
      },
    },
    NotificationBatch: closed({
      id: { type: 'string', format: 'uuid' },
      href: { type: 'string' },
      rowsHref: { type: 'string', description: 'the per-row results' },
      status: { enum: ['ACCEPTED', 'SENDING', 'DONE'], description: 'ACCEPTED: every notification still QUEUED; SENDING: some not settled yet; DONE: every notification SENT, DELIVERED, READ or FAILED (or no row accepted)' },
      format: { enum: ['csv', 'ndjson'] },
      strategy: { type: 'string' },
      template: nullable('string'),
      rows: closed({ total: { type: 'integer', minimum: 0 }, accepted: { type: 'integer', minimum: 0 }, refused: { type: 'integer', minimum: 0 } }),
      notifications: closed(Object.fromEntries(NOTIFICATION_STATUSES.map((st) => [st, { type: 'integer', minimum: 0 }])), [...NOTIFICATION_STATUSES], { description: "the batch's notifications by status (progress)" }),
      createdAt: dateTime,
      acceptedAt: dateTime,
    }),
    NotificationBatchRows: closed({
      items: {
        type: 'array',
        items: {
          oneOf: [
            closed({ row: { type: 'integer', minimum: 1 }, result: { const: 'accepted' }, notificationId: { type: 'string', format: 'uuid' }, href: { type: 'string' } }),
            closed({ row: { type: 'integer', minimum: 1 }, result: { const: 'refused' }, code: { type: 'string', description: 'the problem code a single POST of this row is answered with' }, detail: { type: 'string' } }),
          ],
        },
      },
      nextCursor: nullable('string', { description: 'pass as cursor for the next page; null on the last' }),
    }),
    Notification: closed({
      id: { type: 'string', format: 'uuid' },
      href: { type: 'string' },
      status: { enum: [...NOTIFICATION_STATUSES] },
      reason: nullable('string', { description: 'for FAILED/FALLBACK: CHANNEL:REASON_CODE, comma-separated' }),
      strategy: { type: 'string' },
      language: { enum: LANGUAGES },
      channel: { enum: [...CHANNELS, null], description: 'the channel that carries the current status' },
      fallback: { oneOf: [closed({ from: { enum: CHANNELS }, to: { enum: [...CHANNELS, null] }, reason: nullable('string') }), { type: 'null' }] },
      recipient: { oneOf: [ref('RecipientIdentifier'), { type: 'null' }] },
      phoneNumber: nullable('string', { pattern: '^\\+[1-9][0-9]{6,14}$' }),
      messageId: nullable('string', { format: 'uuid', description: 'the registered message this notice is about' }),
      reference: nullable('string'),
      template: nullable('string'),
      batch: { oneOf: [closed({ id: { type: 'string', format: 'uuid' }, row: { type: 'integer', minimum: 1 }, href: { type: 'string' } }), { type: 'null' }], description: 'the batch (POST /v1/notifications/batches) and its row this notification came from' },
      sms: { oneOf: [closed({ encoding: { enum: ['GSM-7', 'UCS-2', null] }, parts: nullable('integer') }), { type: 'null' }] },
      sendAt: { ...nullableDateTime, description: 'when a scheduled notification is (was) dispatched; null: at once' },
      validUntil: { ...nullableDateTime, description: 'not handed to a provider by then: EXPIRED; null for the notice of a registered message' },
      attempts: {
        type: 'array',
        items: closed({
          id: { type: 'string', format: 'uuid' },
          channel: { enum: CHANNELS },
          status: { enum: [...ATTEMPT_STATUSES] },
          reason: nullable('string'),
          provider: nullable('string'),
          units: { type: 'integer', minimum: 0, description: 'SMS parts or pushes' },
          sentAt: nullableDateTime,
          deliveredAt: { ...nullableDateTime, description: 'also set on a FALLBACK attempt whose push was delivered after its wait (NOTIFY_PUSH_DELIVERY_TIMEOUT_MS) was over' },
          readAt: nullableDateTime,
          deferredUntil: { ...nullableDateTime, description: "an SMS due in the sender's quiet hours (recipient's local time) waits until then; the history has the entry (reason QUIET_HOURS)" },
        }),
      },
      history: {
        type: 'array',
        items: closed({
          at: dateTime,
          scope: { enum: ['notification', 'attempt'] },
          status: nullable('string'),
          channel: { enum: [...CHANNELS, null] },
          reason: nullable('string', {
            description:
              'the reason code of FAILED, FALLBACK, EXPIRED (VALIDITY_ELAPSED) and CANCELLED (CANCELLED_BY_SENDER); AFTER_FALLBACK on an attempt DELIVERED or READ after it was given up for another channel (the fallback stands); QUIET_HOURS on an attempt QUEUED again, deferred to the end of quiet hours',
          }),
        }),
      },
      createdAt: dateTime,
      updatedAt: dateTime,
    }),
    NotificationSummary: closed({
      id: { type: 'string', format: 'uuid' },
      href: { type: 'string' },
      status: { enum: [...NOTIFICATION_STATUSES] },
      reason: nullable('string'),
      strategy: { type: 'string' },
      recipient: { oneOf: [ref('RecipientIdentifier'), { type: 'null' }] },
      phoneNumber: nullable('string', { pattern: '^\\+[1-9][0-9]{6,14}$' }),
      messageId: nullable('string', { format: 'uuid' }),
      reference: nullable('string'),
      template: nullable('string'),
      sendAt: nullableDateTime,
      validUntil: nullableDateTime,
      createdAt: dateTime,
      updatedAt: dateTime,
    }),
    NotificationPage: closed({
      items: { type: 'array', items: ref('NotificationSummary') },
      next: nullable('string', { description: 'the next page (same filters), or null' }),
    }),
    QuietHours: closed(
      { start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }, end: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' } },
      ['start', 'end'],
      { description: "no SMS between start (included) and end (excluded), in the recipient's local time; across midnight when end < start" },
    ),
    NotificationSettings: closed({
      defaultStrategy: { type: 'string' },
      quietHours: { oneOf: [ref('QuietHours'), { type: 'null' }] },
      strategies: { type: 'array', items: closed({ name: { type: 'string' }, description: { type: 'string' } }) },
    }),
    NotificationUsage: closed({
      month: { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$' },
      currency: { type: 'string' },
      amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$', description: 'decimal' },
      senders: {
        type: 'array',
        items: closed({
          senderId: { type: 'string', format: 'uuid' },
          senderName: { type: 'string' },
          amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' },
          lines: {
            type: 'array',
            items: closed({ channel: { enum: CHANNELS }, messages: { type: 'integer', minimum: 0 }, units: { type: 'integer', minimum: 0 }, unitPrice: { type: 'string' }, amount: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?$' } }),
          },
        }),
      },
    }),
    Contact: closed({
      recipient: ref('RecipientIdentifier'),
      phoneNumber: nullable('string', { pattern: '^\\+[1-9][0-9]{6,14}$' }),
      optOuts: { type: 'array', items: ref('OptOut'), description: "the number's opt-outs (it answered STOP to a sender, or STOP ALL); SMS are not sent where one applies" },
      language: { enum: LANGUAGES },
      timeZone: nullable('string', { description: "IANA time zone for quiet hours; null: the number's country's zone where it has one, else NOTIFY_TIME_ZONE" }),
      installations: { type: 'array', items: ref('Installation') },
      createdAt: dateTime,
      updatedAt: dateTime,
    }),
    OptOut: closed({
      scope: { enum: ['SENDER', 'ALL'], description: 'SENDER: no SMS from `senderId`; ALL: no SMS from any sender' },
      senderId: nullable('string', { format: 'uuid' }),
      source: { type: 'string', description: 'how it was recorded: `sms:kannel` or `sms:sms-http` (the phone answered a keyword)' },
      createdAt: dateTime,
    }),
    OptOuts: closed({ phoneNumber: { type: 'string', pattern: E164 }, optOuts: { type: 'array', items: ref('OptOut') } }),
    Reply: closed({
      id: { type: 'string', format: 'uuid' },
      notificationId: nullable('string', { format: 'uuid', description: 'the notification whose SMS the number received last, which this answers' }),
      from: { type: 'string', pattern: E164, description: 'the phone that answered (E.164)' },
      to: { type: 'string', description: 'the number or sender ID it answered' },
      text: { type: 'string' },
      receivedAt: dateTime,
      keyword: { enum: ['OPT_OUT', 'OPT_OUT_ALL', 'OPT_IN', 'OPT_IN_ALL', null], description: 'the keyword the text is (GET /v1/notifications/replies describes them); null: an ordinary reply' },
    }),
    ReplyPage: closed({
      items: { type: 'array', items: ref('Reply') },
      cursor: { type: 'string', pattern: '^[0-9]+$', description: 'give it back as `cursor` for the replies received after these' },
      hasMore: { type: 'boolean', description: 'more replies are there already' },
    }),
    SenderNotificationSettings: closed({
      senderId: { type: 'string', format: 'uuid' },
      smsSenderId: nullable('string', { description: 'the sender shown on the phone; null: the configured default' }),
      rateLimit: { oneOf: [ref('RateLimitSetting'), { type: 'null' }], description: 'null: NOTIFY_RATE_LIMIT_BURST / NOTIFY_RATE_LIMIT_PER_MINUTE' },
      effective: closed({ smsSenderId: nullable('string'), rateLimit: ref('RateLimitSetting') }, ['smsSenderId', 'rateLimit'], { description: 'what applies now' }),
      updatedAt: nullableDateTime,
    }),
    RateLimitSetting: closed({
      burst: { type: 'integer', minimum: 1, maximum: 1_000_000, description: 'requests at once (the bucket size)' },
      perMinute: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'tokens added a minute; 0: no limit' },
    }),
    Installation: closed({
      id: { type: 'string' },
      deviceName: nullable('string'),
      notificationsEnabled: { type: 'boolean' },
      pushToken: { type: 'string' },
      publicKey: closed({ kty: { const: 'EC' }, crv: { const: 'P-256' }, x: { type: 'string' }, y: { type: 'string' } }, ['kty', 'crv', 'x', 'y'], { description: "the device's public encryption key as stored: JWK EC P-256" }),
      keyThumbprint: { type: 'string', description: 'RFC 7638 JWK thumbprint (SHA-256)' },
      createdAt: dateTime,
      updatedAt: dateTime,
    }),
    DevicePublicKey: {
      type: 'object',
      required: ['kty', 'crv', 'x', 'y'],
      description: "the device's public encryption key, JWK EC P-256 (ECDH-ES+A256KW); in a request, other JWK members are dropped",
      properties: { kty: { const: 'EC' }, crv: { const: 'P-256' }, x: { type: 'string' }, y: { type: 'string' } },
    },
  };
}

export function notificationPaths(config: Config) {
  const replayed = { schema: { const: 'true' }, description: 'present when an Idempotency-Key matched an earlier identical request: this is that notification' };
  const limited = config.notify.rateLimitPerMinute > 0;
  const rateHeaders = {
    'RateLimit-Policy': {
      schema: { type: 'string', pattern: '^"notifications";q=[0-9]+;w=[0-9]+$' },
      description: `draft-ietf-httpapi-ratelimit-headers-10: the sender's token bucket, \`"notifications";q=<burst>;w=<seconds to refill it from empty>\` (here q=${config.notify.rateLimitBurst}, ${config.notify.rateLimitPerMinute} a minute); present when the request took a token or was refused for want of one`,
    },
    RateLimit: {
      schema: { type: 'string', pattern: '^"notifications";r=[0-9]+;t=[0-9]+$' },
      description: 'draft-ietf-httpapi-ratelimit-headers-10: `"notifications";r=<whole tokens left>;t=<seconds until one more token>` (t=0: the bucket is full)',
    },
  };
  const rateNote = limited
    ? `A token bucket per sender, shared by every API process on the database: at most ${config.notify.rateLimitBurst} requests at once and ${config.notify.rateLimitPerMinute} a minute; beyond, 429 RATE_LIMITED with Retry-After (the seconds until the next token). A request refused for its content takes no token, nor does a replay. The bucket shows in RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers-10). The operator may give a sender its own burst and rate (PUT /v1/admin/senders/{id}/notifications); the fields then show those.`
    : 'No rate limit is configured (the operator may give a sender one: PUT /v1/admin/senders/{id}/notifications).';
  const signed = 'Body signed `t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`; refused (401) when the signature is wrong or older than 5 minutes, 404 for an unknown id.';
  return {
    '/v1/notifications': {
      get: {
        summary: "The sender's notifications, newest first",
        description: 'Filters combine (AND); each at most once (twice, or an unknown parameter, is 400 QUERY_INVALID). Pages are cut on (createdAt, id): follow `next` for the rest.',
        parameters: [
          { name: 'status', in: 'query', schema: { enum: [...NOTIFICATION_STATUSES] } },
          { name: 'reference', in: 'query', schema: { type: 'string', maxLength: 200 }, description: 'exactly your reference' },
          { name: 'createdFrom', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'RFC 3339, included' },
          { name: 'createdTo', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'RFC 3339, excluded' },
          { name: 'phoneNumber', in: 'query', schema: { type: 'string' }, description: 'the E.164 mobile number you addressed (not the directory\'s)' },
          { name: 'recipientType', in: 'query', schema: { enum: ['citizen', 'enterprise'] } },
          { name: 'recipientId', in: 'query', schema: { type: 'string' }, description: 'INSZ/NISS or KBO/BCE; needs recipientType' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'from `next`' },
        ],
        responses: { 200: jsonResponse('a page', ref('NotificationPage')), 400: problem, 401: problem },
      },
      post: {
        summary: 'Send a short message by GovApp push and/or SMS, per strategy',
        description: `Synchronous by default: waits up to ${config.notify.syncWaitMs} ms for the send status and answers 201 (SENT, DELIVERED, READ or FAILED), else 202. With \`Prefer: respond-async\` answers 202 at once. ${rateNote} With \`Idempotency-Key\`, a retry of the same request (same members after normalisation, in any order) is answered with the first notification as it is now (same rule for 201/202, header \`Idempotent-Replayed: true\`) and is neither sent nor billed again, even when the retries race; the same key with another request is 409 IDEMPOTENCY_KEY_REUSED naming the first notification (\`notificationId\`). Keys are per sender and separate from those of /v1/messages; a request refused for its content does not use its key. A strategy that can only send SMS (SMS_ONLY) to a number that answered STOP to you, or STOP ALL, is 422 \`RECIPIENT_OPTED_OUT\` and nothing is queued; with another channel the notification is accepted and its SMS attempt FAILED with that reason (GET /v1/notifications/replies).`,
        parameters: [
          { name: 'Prefer', in: 'header', schema: { type: 'string' }, description: 'respond-async' },
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 202 }, description: 'RFC 8941 string or bare token, 1–200 printable ASCII characters (a UUID is recommended); one header line only (two lines are 400 IDEMPOTENCY_KEY_INVALID)' },
        ],
        requestBody: jsonBody(ref('NotificationRequest')),
        responses: {
          201: { ...jsonResponse('the send status is known', ref('Notification')), headers: { Location: { schema: { type: 'string' } }, 'Idempotent-Replayed': replayed, ...rateHeaders } },
          202: { ...jsonResponse('queued; poll the Location', ref('Notification')), headers: { Location: { schema: { type: 'string' } }, 'Idempotent-Replayed': replayed, ...rateHeaders } },
          400: problem,
          401: problem,
          409: problem,
          415: problem,
          422: problem,
          429: {
            content: { 'application/problem+json': { schema: ref('Problem') } },
            description: '`RATE_LIMITED`: the sender\'s bucket is empty (with RateLimit-Policy and RateLimit), or this address failed authentication too often; try again after `Retry-After` seconds',
            headers: { 'Retry-After': { schema: { type: 'string', pattern: '^[0-9]+$' } }, ...rateHeaders },
          },
        },
      },
    },
    '/v1/notifications/batches': {
      post: {
        summary: 'Send many notifications at once: one row per recipient, as JSON lines or CSV',
        description: `The body streams in and is read a row at a time (at most ${config.notify.batch.maxRows} rows and ${config.notify.batch.maxBytes} bytes, NOTIFY_BATCH_MAX_ROWS / NOTIFY_BATCH_MAX_BYTES; a row at most 128 KiB). \`application/x-ndjson\`: one JSON object per line, the members of a single POST that vary per row (recipient or phoneNumber, language, reference, values); the first line may be \`{"batch": {…}}\` with the batch-wide members (template or content, strategy, language, values, smsTransliterate). \`text/csv\`: a header row naming the columns phoneNumber | recipientType + recipientId, language, reference, values.<name>; an empty cell is an absent member. The batch-wide members can be given as query parameters instead (template, strategy, language, smsTransliterate, values.<name>), not both. Each row merged with the batch-wide members is checked exactly as a single POST of it: a refused row keeps that problem code (GET …/rows?result=refused), the others become notifications sent like any other. 202 follows the commit that queued every accepted row; a batch refused as a whole (unreadable body, unknown column, bad batch-wide members, too large) leaves nothing behind. A batch takes one token of the sender's rate limit; its rows are paced by the send jobs, which yield to every other job, and by the provider's rate limit. With \`Idempotency-Key\`, the same batch again (same media type, query and bytes) is answered with the first one (\`Idempotent-Replayed: true\`), another one with 409 IDEMPOTENCY_KEY_REUSED naming it (\`batchId\`).`,
        parameters: [
          { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 202 }, description: 'as for POST /v1/notifications; keys of batches are their own' },
          { name: 'template', in: 'query', schema: { enum: [...BUILTIN_TEMPLATES.keys()] } },
          { name: 'strategy', in: 'query', schema: { enum: [...BUILTIN_STRATEGY_NAMES] } },
          { name: 'language', in: 'query', schema: { enum: LANGUAGES } },
          { name: 'smsTransliterate', in: 'query', schema: { enum: ['true', 'false'] } },
        ],
        requestBody: {
          required: true,
          content: {
            'application/x-ndjson': { schema: { type: 'string' }, example: '{"batch": {"template": "appointment-reminder", "strategy": "SMS_ONLY"}}\n{"phoneNumber": "+32470123456", "values": {"what": "Checkup", "date": "3 March", "time": "10:00"}}\n' },
            'text/csv': { schema: { type: 'string' }, example: 'phoneNumber,language,values.what,values.date,values.time\n+32470123456,nl,Controle,3 maart,10:00\n' },
          },
        },
        responses: {
          202: { ...jsonResponse('accepted and queued; follow the Location', ref('NotificationBatch')), headers: { Location: { schema: { type: 'string' } }, 'Idempotent-Replayed': replayed, ...rateHeaders } },
          400: problem,
          401: problem,
          409: problem,
          413: problem,
          415: problem,
          422: problem,
        },
      },
    },
    '/v1/notifications/batches/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: "One of the sender's batches: status, rows accepted and refused, its notifications by status", responses: { 200: jsonResponse('the batch', ref('NotificationBatch')), 401: problem, 404: problem } },
    },
    '/v1/notifications/batches/{id}/rows': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: 'The per-row results of a batch, in row order',
        parameters: [
          { name: 'result', in: 'query', schema: { enum: ['accepted', 'refused'] } },
          { name: 'cursor', in: 'query', schema: { type: 'string' }, description: 'the nextCursor of the previous page' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        ],
        responses: { 200: jsonResponse('a page of rows', ref('NotificationBatchRows')), 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/notifications/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: { summary: "One of the sender's notifications: status, attempts per channel, history", responses: { 200: jsonResponse('the notification', ref('Notification')), 401: problem, 404: problem } },
      delete: {
        summary: 'Cancel a notification not yet handed to a provider',
        description:
          'Possible while it is SCHEDULED or QUEUED and no attempt was handed to its provider (an SMS deferred by quiet hours counts as not handed over): the notification and its queued attempts become CANCELLED (final, reason CANCELLED_BY_SENDER, in the history) and its pending jobs do nothing. Cancelling a CANCELLED notification again answers it as it is. 409 NOTIFICATION_NOT_CANCELLABLE once an attempt was handed to a provider (SENT or later), for a notification already FAILED or EXPIRED, and for the notice of a registered message. Another sender\'s notification is 404.',
        responses: { 200: jsonResponse('cancelled', ref('Notification')), 401: problem, 404: problem, 409: problem },
      },
    },
    '/v1/notifications/replies': {
      get: {
        summary: 'The SMS phones sent back to your SMS, oldest first',
        description: `A reply is yours when the number received your SMS last, at most ${config.notify.inboundAttributionDays} days before (NOTIFY_INBOUND_ATTRIBUTION_DAYS); \`notificationId\` is that SMS's notification. Poll with the \`cursor\` of the previous page. A reply that is a keyword (compared without accents, case, spaces or punctuation) also changes the number's opt-outs: ${keywordList()}. OPT_OUT stops your SMS to the number (a later SMS-only request is 422 \`RECIPIENT_OPTED_OUT\`; other strategies skip SMS with that reason), OPT_OUT_ALL every sender's, OPT_IN lifts what blocks yours, OPT_IN_ALL every opt-out of the number. A STOP not attributable to a sender stops every sender's SMS.`,
        parameters: [
          { name: 'cursor', in: 'query', schema: { type: 'string', pattern: '^[0-9]+$' }, description: 'from the previous page (default: from the start)' },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        ],
        responses: { 200: jsonResponse('replies', ref('ReplyPage')), 400: problem, 401: problem },
      },
    },
    '/v1/notifications/settings': {
      get: { summary: "The sender's default strategy and the strategies offered", responses: { 200: jsonResponse('settings', ref('NotificationSettings')), 401: problem } },
      put: {
        summary: "Set the sender's default strategy and/or quiet hours",
        description:
          "A member left out keeps its value. Quiet hours are in the recipient's local time (the contact's timeZone, else its number's country's zone where the country has one, else NOTIFY_TIME_ZONE): an SMS due in them is deferred to their end (never dropped; EXPIRED if its validUntil comes first). Pushes are silent and not deferred.",
        requestBody: jsonBody({
          type: 'object',
          minProperties: 1,
          additionalProperties: false,
          properties: { defaultStrategy: { type: 'string' }, quietHours: { oneOf: [ref('QuietHours'), { type: 'null' }] } },
        }),
        responses: { 200: jsonResponse('settings', ref('NotificationSettings')), 401: problem, 422: problem },
      },
    },
    '/v1/notifications/usage': {
      get: { summary: "The sender's usage of a month (SMS parts, pushes) and its price", parameters: [monthParam], responses: { 200: jsonResponse('usage', ref('NotificationUsage')), 400: problem, 401: problem } },
    },
    '/v1/callbacks/kannel': {
      get: {
        summary: "Kannel's delivery reports (dlr-url)",
        description: 'Called by Kannel with the URL the service gave it: our attempt id, a token (`<exp>.<HMAC of the id and exp>`, refused with 401 after the unix second exp: KANNEL_DLR_TOKEN_LIFETIME_SECONDS after the send) and the DLR status (1 delivered, 2 undelivered, 4 buffered, 8 accepted by the SMSC, 16 rejected). Reports may come in any order.',
        security: [],
        parameters: [
          { name: 'attempt', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'token', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'status', in: 'query', required: true, schema: { type: 'integer' } },
          { name: 'at', in: 'query', schema: { type: 'string' } },
          { name: 'reply', in: 'query', schema: { type: 'string' } },
        ],
        responses: { 204: { description: 'recorded' }, 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/callbacks/kannel/inbound': {
      get: {
        summary: "Kannel's sms-service get-url: an SMS a phone sent",
        description:
          'Configured once in Kannel (docs/kannel.md): `get-url = "<base>/v1/callbacks/kannel/inbound?token=<token>&from=%p&to=%P&text=%b&coding=%c&id=%I&at=%T&smsc=%i"`, the token being base64url(HMAC-SHA256(KANNEL_DLR_SECRET, "kannel-inbound")) cut to 128 bits — it does not expire, and no delivery-report token is one (401). Stored once per Kannel id (`id`); the text is read by its coding (0 GSM-7 as UTF-8, 2 UCS-2 as UTF-16BE, 1 Latin-1). 404 when Kannel is not the SMS provider.',
        security: [],
        parameters: [
          { name: 'token', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'from', in: 'query', required: true, schema: { type: 'string' }, description: "%p: the phone's number (with or without +)" },
          { name: 'to', in: 'query', required: true, schema: { type: 'string' }, description: '%P: the number or sender ID it answered' },
          { name: 'text', in: 'query', required: true, schema: { type: 'string' }, description: "%b: the message's bytes" },
          { name: 'coding', in: 'query', schema: { enum: ['0', '1', '2'] }, description: '%c' },
          { name: 'id', in: 'query', required: true, schema: { type: 'string' }, description: "%I: Kannel's id of the message" },
          { name: 'at', in: 'query', schema: { type: 'string', pattern: '^[0-9]+$' }, description: '%T: when it was received (unix seconds)' },
          { name: 'smsc', in: 'query', schema: { type: 'string' }, description: '%i' },
        ],
        responses: { 204: { description: 'stored (or already stored)' }, 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/callbacks/sms-http/inbound': {
      post: {
        summary: 'An SMS a phone sent, passed on by the generic HTTP SMS aggregator',
        description: `Header Signature. ${signed.replace(', 404 for an unknown id', '')} Stored once per \`id\` (the aggregator's message id). 404 when the HTTP aggregator is not the SMS provider.`,
        security: [],
        requestBody: jsonBody({
          type: 'object',
          required: ['id', 'from', 'to', 'text'],
          properties: { id: { type: 'string', maxLength: 200 }, from: { type: 'string', description: 'E.164' }, to: { type: 'string' }, text: { type: 'string', maxLength: 2000 }, receivedAt: { type: 'string', format: 'date-time' } },
        }),
        responses: { 204: { description: 'stored (or already stored)' }, 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/callbacks/govapp': {
      post: {
        summary: 'GovApp receipts (DELIVERED, READ)',
        description: `Header GovApp-Signature. ${signed}`,
        security: [],
        requestBody: jsonBody({
          type: 'object',
          required: ['pushId', 'installationId', 'event'],
          properties: { pushId: { type: 'string' }, installationId: { type: 'string' }, event: { enum: ['DELIVERED', 'READ'] }, at: { type: 'string', format: 'date-time' } },
        }),
        responses: { 204: { description: 'recorded' }, 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/callbacks/sms-http': {
      post: {
        summary: 'Delivery reports of the generic HTTP SMS aggregator',
        description: `Header Signature. ${signed}`,
        security: [],
        requestBody: jsonBody({
          type: 'object',
          required: ['reference', 'status'],
          properties: { reference: { type: 'string' }, status: { enum: ['ACCEPTED', 'DELIVERED', 'FAILED'] }, reason: { type: 'string' } },
        }),
        responses: { 204: { description: 'recorded' }, 400: problem, 401: problem, 404: problem },
      },
    },
    '/v1/admin/contacts/{type}/{id}': {
      parameters: recipientPath,
      put: {
        summary: "Create or replace a recipient's contact entry (mobile number, language)",
        security: [{ adminToken: [] }],
        requestBody: jsonBody({
          type: 'object',
          properties: {
            phoneNumber: nullable('string', { description: 'E.164 mobile' }),
            language: { enum: LANGUAGES },
            timeZone: nullable('string', { description: 'IANA time zone (quiet hours); left out or null: from the number\'s country, else NOTIFY_TIME_ZONE' }),
          },
        }),
        responses: { 200: jsonResponse('replaced', ref('Contact')), 201: jsonResponse('created', ref('Contact')), 401: problem, 422: problem },
      },
      get: { summary: 'A contact entry with its GovApp installations', security: [{ adminToken: [] }], responses: { 200: jsonResponse('contact', ref('Contact')), 401: problem, 404: problem, 422: problem } },
      delete: { summary: 'Remove a contact entry and its installations', security: [{ adminToken: [] }], responses: { 204: { description: 'removed' }, 401: problem, 404: problem } },
    },
    '/v1/admin/contacts/{type}/{id}/installations': {
      parameters: recipientPath,
      post: {
        summary: 'Register a GovApp installation (push token, public encryption key)',
        security: [{ adminToken: [] }],
        requestBody: jsonBody({
          type: 'object',
          required: ['pushToken', 'publicKey'],
          properties: { id: { type: 'string', description: "the app's installation id (default: generated)" }, pushToken: { type: 'string' }, publicKey: ref('DevicePublicKey'), deviceName: { type: 'string' }, notificationsEnabled: { type: 'boolean', default: true } },
        }),
        responses: { 201: jsonResponse('registered', ref('Installation')), 401: problem, 404: problem, 409: problem, 422: problem },
      },
    },
    '/v1/admin/contacts/{type}/{id}/installations/{installationId}': {
      parameters: [...recipientPath, { name: 'installationId', in: 'path', required: true, schema: { type: 'string' } }],
      patch: {
        summary: 'Change an installation: notifications on/off, push token, key, name',
        security: [{ adminToken: [] }],
        requestBody: jsonBody({ type: 'object', properties: { notificationsEnabled: { type: 'boolean' }, pushToken: { type: 'string' }, publicKey: ref('DevicePublicKey'), deviceName: { type: 'string' } } }),
        responses: { 200: jsonResponse('changed', ref('Installation')), 401: problem, 404: problem, 422: problem },
      },
      delete: { summary: 'Remove an installation', security: [{ adminToken: [] }], responses: { 204: { description: 'removed' }, 401: problem, 404: problem } },
    },
    '/v1/admin/opt-outs/{phoneNumber}': {
      parameters: [{ name: 'phoneNumber', in: 'path', required: true, schema: { type: 'string' }, description: 'E.164, URL-encoded (%2B32470…)' }],
      get: {
        summary: "A number's opt-outs (it answered STOP to a sender, or STOP ALL)",
        security: [{ adminToken: [] }],
        responses: { 200: jsonResponse('opt-outs', ref('OptOuts')), 401: problem, 422: problem },
      },
    },
    '/v1/admin/opt-outs/{phoneNumber}/{scope}': {
      parameters: [
        { name: 'phoneNumber', in: 'path', required: true, schema: { type: 'string' }, description: 'E.164, URL-encoded' },
        { name: 'scope', in: 'path', required: true, schema: { type: 'string' }, description: 'a sender id, or `all` for the all-senders opt-out' },
      ],
      delete: {
        summary: 'Lift an opt-out: SMS from that sender (or all) go to the number again',
        security: [{ adminToken: [] }],
        responses: { 204: { description: 'removed' }, 401: problem, 404: problem, 422: problem },
      },
    },
    '/v1/admin/senders/{id}/notifications': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      get: {
        summary: "A sender's SMS sender ID and rate limit",
        security: [{ adminToken: [] }],
        responses: { 200: jsonResponse('settings', ref('SenderNotificationSettings')), 401: problem, 404: problem },
      },
      put: {
        summary: "Set a sender's SMS sender ID and rate limit (a member left out or null: the configured default)",
        description:
          '`smsSenderId`: alphanumeric, 1 to 11 of A–Z a–z 0–9 and space with at least one letter (422 `SMS_SENDER_ID_TOO_LONG` / `SMS_SENDER_ID_INVALID`), or a number: E.164 (+ and 7 to 15 digits) or a short code of 3 to 15 digits; Kannel gets it as `from`, the HTTP aggregator in its JSON. `rateLimit`: `{burst, perMinute}` replacing NOTIFY_RATE_LIMIT_BURST / NOTIFY_RATE_LIMIT_PER_MINUTE for this sender (perMinute 0: no limit); the RateLimit header fields show it. Other members: 422 `SENDER_SETTINGS_INVALID`.',
        security: [{ adminToken: [] }],
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: false,
          properties: { smsSenderId: nullable('string', { maxLength: 16 }), rateLimit: { oneOf: [ref('RateLimitSetting'), { type: 'null' }] } },
        }),
        responses: { 200: jsonResponse('settings', ref('SenderNotificationSettings')), 401: problem, 404: problem, 422: problem },
      },
    },
    '/v1/admin/notifications/usage': {
      get: {
        summary: `Usage of every sender in a month, priced (${config.notify.pricing.currency} ${config.notify.pricing.smsPart} per SMS part, ${config.notify.pricing.push} per push)`,
        security: [{ adminToken: [] }],
        parameters: [monthParam],
        responses: { 200: jsonResponse('usage', ref('NotificationUsage')), 400: problem, 401: problem },
      },
    },
  };
}
