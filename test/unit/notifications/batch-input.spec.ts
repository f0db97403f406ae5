/**
 * The body of a bulk send read as it streams (src/notifications/BatchInput.ts): the
 * batch-wide parts, rows numbered from 1, CSV quoting across chunk boundaries, unreadable
 * rows as items with their error, whole-body faults thrown, limits, and the digest that
 * Idempotency-Key compares.
 */
import { expect } from 'chai';
import { ServiceError } from '../../../src/domain/errors.js';
import { batchFormat, openBatch, settingsFromQuery, type BatchFormat, type BatchItem } from '../../../src/notifications/BatchInput.js';

const LIMITS = { maxBytes: 1 << 20, maxRowBytes: 1024 };

/** The body cut into chunks of `size` bytes, as a socket may deliver it. */
async function* chunks(text: string | Buffer, size: number): AsyncGenerator<Buffer> {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function read(format: BatchFormat, body: string | Buffer, query: Record<string, unknown> = {}, size = 7, limits = LIMITS) {
  const input = await openBatch(format, chunks(body, size), query, limits);
  const items: BatchItem[] = [];
  for await (const item of input.rows) items.push(item);
  return { settings: input.settings, items, digest: input.digest() };
}

const codeOf = (i: BatchItem) => ('error' in i ? i.error.code : undefined);

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(ServiceError);
    return (err as ServiceError).code;
  }
  throw new Error('expected a refusal');
}

describe('bulk send bodies (BatchInput)', () => {
  it('media types: JSON lines and CSV in UTF-8; anything else 415', () => {
    expect(batchFormat('application/x-ndjson')).to.equal('ndjson');
    expect(batchFormat('text/csv; charset=utf-8')).to.equal('csv');
    for (const bad of [undefined, 'application/json', 'text/csv; charset=latin1']) expect(() => batchFormat(bad), String(bad)).to.throw(ServiceError).with.property('code', 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('query settings: template, strategy, language, smsTransliterate, values.<name>; others refused', () => {
    expect(settingsFromQuery({ template: 't', 'values.subject': 'Brief', smsTransliterate: 'true' })).to.deep.equal({ template: 't', smsTransliterate: true, values: { subject: 'Brief' } });
    expect(() => settingsFromQuery({ colour: 'red' })).to.throw(ServiceError).with.property('code', 'QUERY_INVALID');
    expect(() => settingsFromQuery({ smsTransliterate: 'yes' })).to.throw(ServiceError).with.property('code', 'QUERY_INVALID');
    expect(() => settingsFromQuery({ template: ['a', 'b'] })).to.throw(ServiceError).with.property('code', 'QUERY_INVALID');
  });

  it('JSON lines: the batch line, CRLF, blank lines skipped, rows numbered from 1, unreadable rows as items', async () => {
    const body = `{"batch": {"template": "t"}}\r\n{"phoneNumber": "+32470000001"}\r\n\r\n   \nnot json\n{"a": "\\u0000"}\n[1]\n`;
    const { settings, items } = await read('ndjson', Buffer.concat([Buffer.from(body), Buffer.from([0xff, 0x0a]), Buffer.from('{"last": true}')]));
    expect(settings).to.deep.equal({ template: 't' });
    expect(items.map((i) => i.row)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(items.map(codeOf)).to.deep.equal([undefined, 'MALFORMED_REQUEST', 'MALFORMED_REQUEST', undefined, 'MALFORMED_REQUEST', undefined]);
    expect(items[0]).to.deep.equal({ row: 1, body: { phoneNumber: '+32470000001' } });
    expect(items[3]).to.deep.equal({ row: 4, body: [1] });
    expect(items[5]).to.deep.equal({ row: 6, body: { last: true } });
  });

  it('JSON lines without a batch line: the query settings, the first line is row 1; both at once refused', async () => {
    const { settings, items } = await read('ndjson', '{"phoneNumber": "+32470000001"}\n', { template: 't' });
    expect(settings).to.deep.equal({ template: 't' });
    expect(items).to.deep.equal([{ row: 1, body: { phoneNumber: '+32470000001' } }]);
    expect(await refusal(read('ndjson', '{"batch": {"template": "t"}}\n', { strategy: 'SMS_ONLY' }))).to.equal('BATCH_INVALID');
    expect(await refusal(read('ndjson', '{"batch": 5}\n'))).to.equal('BATCH_INVALID');
  });

  it('CSV: a BOM, quoted commas, quotes and newlines across chunks, empty cells absent, recipient columns', async () => {
    const csv = '\ufeffphoneNumber,recipientType,recipientId,reference,values.what\r\n+32470000001,,,"R ""1""","a, b\nc"\r\n,citizen,85073003328,R2,\n+32470000003,,\n';
    const { items } = await read('csv', csv, {}, 3);
    expect(items).to.deep.equal([
      { row: 1, body: { phoneNumber: '+32470000001', reference: 'R "1"', values: { what: 'a, b\nc' } } },
      { row: 2, body: { recipient: { type: 'citizen', id: '85073003328' }, reference: 'R2' } },
      items[2],
    ]);
    expect(codeOf(items[2]!)).to.equal('MALFORMED_REQUEST');
  });

  it('CSV faults of the whole body: an unknown or repeated column, no address column, a quote left open, no header', async () => {
    expect(await refusal(read('csv', 'phoneNumber,colour\n+32470000001,red\n'))).to.equal('BATCH_INVALID');
    expect(await refusal(read('csv', 'phoneNumber,phoneNumber\n'))).to.equal('BATCH_INVALID');
    expect(await refusal(read('csv', 'language,reference\nnl,R\n'))).to.equal('BATCH_INVALID');
    expect(await refusal(read('csv', 'phoneNumber,recipientId\n'))).to.equal('BATCH_INVALID');
    expect(await refusal(read('csv', 'phoneNumber\n"+32470000001\n'))).to.equal('MALFORMED_REQUEST');
    expect(await refusal(read('csv', ''))).to.equal('BATCH_INVALID');
  });

  it('limits: the body and a row; 413 BATCH_TOO_LARGE', async () => {
    const small = { maxBytes: 100, maxRowBytes: 50 };
    expect(await refusal(read('ndjson', `${'{"phoneNumber": "+32470000001"}\n'.repeat(5)}`, {}, 7, small))).to.equal('BATCH_TOO_LARGE');
    expect(await refusal(read('ndjson', `{"reference": "${'x'.repeat(60)}"}\n`, {}, 7, small))).to.equal('BATCH_TOO_LARGE');
    expect(await refusal(read('csv', `phoneNumber,reference\n+32470000001,${'x'.repeat(60)}\n`, {}, 7, small))).to.equal('BATCH_TOO_LARGE');
  });

  it('the digest covers the format, the query settings and the bytes, however they are chunked', async () => {
    const body = '{"phoneNumber": "+32470000001"}\n';
    const a = await read('ndjson', body, { template: 't' }, 3);
    expect((await read('ndjson', body, { template: 't' }, 100)).digest).to.equal(a.digest);
    expect((await read('ndjson', body, { template: 'u' }, 3)).digest).to.not.equal(a.digest);
    expect((await read('ndjson', `${body}\n`, { template: 't' }, 3)).digest).to.not.equal(a.digest);
    const csv = 'phoneNumber\n+32470000001\n';
    expect((await read('csv', csv, { template: 't' })).digest).to.not.equal((await read('ndjson', csv, { template: 't' }).catch(() => ({ digest: 'none' }))).digest);
  });
});
