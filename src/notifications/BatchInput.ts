/**
 * The body of POST /v1/notifications/batches, read as it streams in: the batch-wide parts
 * (the settings) and then one row at a time, each as the JSON object a single POST of that
 * notification would carry (without its batch-wide members). Nothing holds the whole body:
 * a line (NDJSON) or a record (CSV) at a time, with limits on the body and on a row.
 *
 *   application/x-ndjson   one JSON object per line; the first line may be {"batch": {…}}
 *                          with the batch-wide members (template | content, strategy,
 *                          language, values, smsTransliterate); blank lines are skipped
 *   text/csv               RFC 4180, a header row naming the columns: phoneNumber |
 *                          recipientType + recipientId, language, reference, values.<name>;
 *                          an empty cell is an absent member (csv-parse reads the quoting)
 *
 * Either format may take the batch-wide members from the query string instead (template,
 * strategy, language, smsTransliterate, values.<name>); own content (per-language text) is
 * given only in an NDJSON batch line. Rows are numbered from 1, not counting the CSV header
 * or the NDJSON batch line.
 *
 * A row that cannot be read (not JSON, not UTF-8, a CSV record with another number of
 * cells than the header) is an item with its error — refused like a single POST of it would
 * be (MALFORMED_REQUEST) — while a body that cannot be read as a whole (a quote left open,
 * a header naming an unknown column, too large) throws, and the batch is refused.
 */
import { createHash, type Hash } from 'node:crypto';
import { canonicalJson } from '../domain/CanonicalJson.js';
import { parse as csvParse, CsvError } from 'csv-parse';
import { ServiceError } from '../domain/errors.js';
import { refuseNul } from '../domain/text.js';

export type BatchFormat = 'csv' | 'ndjson';

/** One row: the notification's own members, or why the row could not be read. */
export type BatchItem = { row: number; body: unknown } | { row: number; error: ServiceError };

export interface BatchInput {
  format: BatchFormat;
  /** the batch-wide members, as a single POST names them */
  settings: Record<string, unknown>;
  rows: AsyncIterable<BatchItem>;
  /** SHA-256 (hex) of the format, the query's settings and the body's bytes; complete once `rows` is read to its end */
  digest(): string;
}

export interface BatchLimits {
  /** the body's size */
  maxBytes: number;
  /** one line or record */
  maxRowBytes: number;
}

/** The batch-wide members a batch may set. */
export const BATCH_SETTINGS = ['template', 'content', 'strategy', 'language', 'values', 'smsTransliterate'] as const;
/** The members a row may set. */
export const ROW_MEMBERS = ['recipient', 'phoneNumber', 'language', 'reference', 'values'] as const;
const CSV_COLUMNS = ['phoneNumber', 'recipientType', 'recipientId', 'language', 'reference'];

/** The media type of a batch body, or UNSUPPORTED_MEDIA_TYPE. */
export function batchFormat(contentType: string | undefined): BatchFormat {
  const [type = '', ...params] = (contentType ?? '').toLowerCase().split(';').map((s) => s.trim());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8') throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the batch in UTF-8');
  if (type === 'application/x-ndjson') return 'ndjson';
  if (type === 'text/csv') return 'csv';
  throw new ServiceError('UNSUPPORTED_MEDIA_TYPE', 'send the batch as application/x-ndjson (JSON lines) or text/csv');
}

/** The batch-wide members given in the query string (empty when none). */
export function settingsFromQuery(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) {
    if (typeof v !== 'string') throw new ServiceError('QUERY_INVALID', `query parameter ${k} must be given once, as text`);
    if (k.startsWith('values.')) values[k.slice(7)] = v;
    else if (k === 'smsTransliterate') {
      if (v !== 'true' && v !== 'false') throw new ServiceError('QUERY_INVALID', 'smsTransliterate must be true or false');
      out.smsTransliterate = v === 'true';
    } else if (k === 'template' || k === 'strategy' || k === 'language') out[k] = v;
    else throw new ServiceError('QUERY_INVALID', `unknown query parameter ${k}: the batch-wide members are template, strategy, language, smsTransliterate and values.<name> (own content: an NDJSON batch line)`);
  }
  if (Object.keys(values).length > 0) out.values = values;
  return out;
}

const tooLarge = (detail: string) => new ServiceError('BATCH_TOO_LARGE', detail);

/** Counts and hashes the body's bytes as they pass, refusing a body over the limit. */
async function* metered(body: AsyncIterable<Buffer | string>, hash: Hash, maxBytes: number): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of body) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += b.length;
    if (total > maxBytes) throw tooLarge(`the batch is larger than ${maxBytes} bytes (NOTIFY_BATCH_MAX_BYTES)`);
    hash.update(b);
    yield b;
  }
}

/** Reads the settings of a batch and gives its rows as they come. */
export async function openBatch(format: BatchFormat, body: AsyncIterable<Buffer | string>, querySettings: Record<string, unknown>, limits: BatchLimits): Promise<BatchInput> {
  const hash = createHash('sha256').update(`${format}\n${canonicalJson(querySettings)}\n`);
  let digest: string | undefined;
  const digestOf = () => {
    if (digest === undefined) throw new Error('the batch has not been read to its end');
    return digest;
  };
  const bytes = metered(body, hash, limits.maxBytes);
  if (format === 'csv') {
    const rows = csvRows(bytes, limits.maxRowBytes);
    // the header is read before the first row is asked for: a bad header refuses the batch at once
    const first = await rows.next();
    const all = (async function* () {
      if (!first.done) yield first.value;
      yield* rows;
      digest = hash.digest('hex');
    })();
    return { format, settings: querySettings, rows: all, digest: digestOf };
  }
  const lines = ndjsonLines(bytes, limits.maxRowBytes);
  let settings = querySettings;
  let pending: { n: number; text: string | ServiceError } | undefined;
  const first = await lines.next();
  if (!first.done) {
    const line = first.value;
    const value = typeof line.text === 'string' ? readJson(line.text) : line.text;
    if (isBatchLine(value)) {
      if (Object.keys(querySettings).length > 0) throw new ServiceError('BATCH_INVALID', 'give the batch-wide members either in the query string or in the batch line, not both');
      const b = (value as { batch: unknown }).batch;
      if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new ServiceError('BATCH_INVALID', 'the batch line must be {"batch": {…}}, an object');
      settings = b as Record<string, unknown>;
    } else {
      pending = line;
    }
  }
  const all = (async function* () {
    let row = 0;
    if (pending) yield item(++row, pending.text);
    for await (const line of lines) yield item(++row, line.text);
    digest = hash.digest('hex');
  })();
  return { format, settings, rows: all, digest: digestOf };
}

function isBatchLine(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && 'batch' in v;
}

const NOT_JSON = Symbol('not JSON');

function readJson(text: string): unknown {
  try {
    return JSON.parse(text, refuseNul);
  } catch {
    return NOT_JSON;
  }
}

function item(row: number, text: string | ServiceError): BatchItem {
  if (text instanceof ServiceError) return { row, error: text };
  const body = readJson(text);
  if (body === NOT_JSON) return { row, error: new ServiceError('MALFORMED_REQUEST', 'the row is not a JSON object on one line') };
  return { row, body };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The non-blank lines of the body, as text (or why a line is not UTF-8). */
async function* ndjsonLines(bytes: AsyncIterable<Buffer>, maxLine: number): AsyncGenerator<{ n: number; text: string | ServiceError }> {
  let rest: Buffer = Buffer.alloc(0);
  let n = 0;
  const line = (b: Buffer) => {
    if (b.length > maxLine) throw tooLarge(`a line is longer than ${maxLine} bytes`);
    n++;
    const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
    try {
      return { n, text: utf8.decode(b.subarray(0, end)) };
    } catch {
      return { n, text: new ServiceError('MALFORMED_REQUEST', 'the row is not UTF-8') };
    }
  };
  for await (const chunk of bytes) {
    let buf = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let nl: number;
    while ((nl = buf.indexOf(0x0a)) !== -1) {
      const l = line(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
      if (typeof l.text !== 'string' || l.text.trim() !== '') yield l;
    }
    if (buf.length > maxLine) throw tooLarge(`a line is longer than ${maxLine} bytes`);
    // keep a copy: the chunk's memory is not held for the rest of the body
    rest = Buffer.from(buf);
  }
  if (rest.length > 0) {
    const l = line(rest);
    if (typeof l.text !== 'string' || l.text.trim() !== '') yield l;
  }
}

/** The data records of a CSV body, each as a row's members; the header row is checked first. */
async function* csvRows(bytes: AsyncIterable<Buffer>, maxRecord: number): AsyncGenerator<BatchItem> {
  const parser = csvParse({ bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: maxRecord, record_delimiter: ['\r\n', '\n'] });
  const feed = (async () => {
    try {
      for await (const b of bytes) {
        if (parser.destroyed) return;
        if (!parser.write(b)) await drained(parser);
      }
      if (!parser.destroyed) parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();
  let header: string[] | undefined;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = checkHeader(record);
        continue;
      }
      row++;
      if (record.length !== header.length) {
        yield { row, error: new ServiceError('MALFORMED_REQUEST', `the row has ${record.length} cells, the header ${header.length}`) };
        continue;
      }
      if (record.some((c) => c.includes('\u0000'))) {
        yield { row, error: new ServiceError('MALFORMED_REQUEST', 'a cell holds the NUL character (\\u0000), which no field accepts') };
        continue;
      }
      yield { row, body: csvRecord(header, record) };
    }
  } catch (err) {
    if (err instanceof ServiceError) throw err;
    if (err instanceof CsvError) {
      if (err.code === 'CSV_MAX_RECORD_SIZE') throw tooLarge(`a record is longer than ${maxRecord} bytes`);
      throw new ServiceError('MALFORMED_REQUEST', `the CSV cannot be read: ${err.message}`, { cause: err });
    }
    throw err;
  } finally {
    // the reader stopped early (the batch was refused): stop feeding the parser
    if (!parser.readableEnded) parser.destroy();
    await feed;
  }
  if (!header) throw new ServiceError('BATCH_INVALID', 'the CSV has no header row');
}

/** Resolves once the stream takes writes again, or is closed. */
function drained(stream: NodeJS.WritableStream & NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function checkHeader(cells: string[]): string[] {
  const seen = new Set<string>();
  for (const c of cells) {
    if (!CSV_COLUMNS.includes(c) && !/^values\.[A-Za-z][A-Za-z0-9_]{0,39}$/.test(c)) {
      throw new ServiceError('BATCH_INVALID', `unknown column "${c.slice(0, 60)}": the columns are ${CSV_COLUMNS.join(', ')} and values.<name>`);
    }
    if (seen.has(c)) throw new ServiceError('BATCH_INVALID', `column "${c}" appears twice`);
    seen.add(c);
  }
  if (seen.has('recipientType') !== seen.has('recipientId')) throw new ServiceError('BATCH_INVALID', 'give both recipientType and recipientId columns, or neither');
  if (!seen.has('phoneNumber') && !seen.has('recipientId')) throw new ServiceError('BATCH_INVALID', 'give a phoneNumber column or recipientType and recipientId columns');
  return cells;
}

/** A CSV record as the JSON members of a single POST; an empty cell is an absent member. */
function csvRecord(header: string[], cells: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const values: Record<string, string> = {};
  let type: string | undefined;
  let id: string | undefined;
  header.forEach((col, i) => {
    const v = cells[i]!;
    if (v === '') return;
    if (col.startsWith('values.')) values[col.slice(7)] = v;
    else if (col === 'recipientType') type = v;
    else if (col === 'recipientId') id = v;
    else out[col] = v;
  });
  if (type !== undefined || id !== undefined) out.recipient = { type, id };
  if (Object.keys(values).length > 0) out.values = values;
  return out;
}
