import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import { expect } from 'chai';
import {
  DocumentIntegrityError,
  encodePartFileName,
  httpPartNames,
  MultipartBody,
  sfString,
  type MultipartFile,
} from '../../../src/registered-mail/ebox/HttpEboxAdapter.js';
import { percentDecode } from '../../../dev/ebox-simulator/PublicationIntake.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function file(name: string, fileName: string, bytes: Buffer, chunkSize = 7): MultipartFile & { opens: number } {
  const f = {
    kind: 'file' as const,
    name,
    fileName,
    contentType: 'application/pdf',
    size: bytes.length,
    sha256: sha256(bytes),
    opens: 0,
    open(): Readable {
      f.opens++;
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
      return Readable.from(chunks);
    },
  };
  return f;
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) out.push(Buffer.from(chunk));
  return Buffer.concat(out);
}

interface Parsed {
  fields: Record<string, string>;
  files: Array<{ name: string; fileName: string | undefined; mimeType: string; bytes: Buffer }>;
}

/** Parses with busboy, a parser nobody here wrote. */
function parse(contentType: string, body: Buffer): Promise<Parsed> {
  return new Promise((resolve, reject) => {
    const parsed: Parsed = { fields: {}, files: [] };
    const bb = busboy({ headers: { 'content-type': contentType }, defParamCharset: 'latin1' });
    bb.on('field', (name, value) => (parsed.fields[name] = value));
    bb.on('file', (name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => parsed.files.push({ name, fileName: info.filename, mimeType: info.mimeType, bytes: Buffer.concat(chunks) }));
    });
    bb.on('close', () => resolve(parsed));
    bb.on('error', reject);
    bb.end(body);
  });
}

describe('multipart body (RFC 7578), streamed', () => {
  it('produces exactly `length` bytes that a multipart parser reads back, names decoded', async () => {
    const a = file('main', 'Überweisung €.pdf', Buffer.from('%PDF-1.7 first document'));
    const b = file('annex', 'plain name.txt', Buffer.alloc(1000, 0x41), 64);
    const body = new MultipartBody([{ kind: 'field', name: 'metadata', contentType: 'application/json; charset=utf-8', value: '{"ü":"é"}' }, a, b]);
    const bytes = await collect(body.stream);
    expect(bytes.length).to.equal(body.length);
    const parsed = await parse(body.contentType, bytes);
    expect(parsed.fields).to.deep.equal({ metadata: '{"ü":"é"}' });
    expect(parsed.files.map((f) => [f.name, f.fileName && percentDecode(f.fileName), f.mimeType, sha256(f.bytes)])).to.deep.equal([
      ['main', 'Überweisung €.pdf', 'application/pdf', a.sha256],
      ['annex', 'plain name.txt', 'application/pdf', b.sha256],
    ]);
    expect(bytes.toString('latin1')).to.include('filename="%C3%9Cberweisung%20%E2%82%AC.pdf"');
    expect(body.failure).to.equal(undefined);
  });

  it('opens each document only when the consumer reaches it, once', async () => {
    const a = file('a', 'a.bin', Buffer.from('aaaa'));
    const b = file('b', 'b.bin', Buffer.from('bbbb'));
    const body = new MultipartBody([a, b]);
    expect([a.opens, b.opens]).to.deep.equal([0, 0]);
    const reader = body.stream.getReader();
    await reader.read(); // the first part's head
    expect([a.opens, b.opens]).to.deep.equal([0, 0]);
    await reader.read(); // first bytes of a
    expect([a.opens, b.opens]).to.deep.equal([1, 0]);
    for (;;) if ((await reader.read()).done) break;
    expect([a.opens, b.opens]).to.deep.equal([1, 1]);
  });

  for (const [label, announced] of [
    ['a different digest', { sha256: sha256(Buffer.from('something else')) }],
    ['a larger size', { size: 100 }],
    ['a smaller size', { size: 5 }],
  ] as const) {
    it(`stops before the part ends when the bytes do not match (${label})`, async () => {
      const doc = { ...file('doc', 'doc.pdf', Buffer.from('the real bytes of the document')), ...announced };
      const body = new MultipartBody([doc]);
      const out: Buffer[] = [];
      let error: unknown;
      try {
        for await (const chunk of body.stream as unknown as AsyncIterable<Uint8Array>) out.push(Buffer.from(chunk));
      } catch (err) {
        error = err;
      }
      expect(error).to.be.instanceOf(DocumentIntegrityError);
      expect(body.failure).to.be.instanceOf(DocumentIntegrityError);
      // the receiver never sees the part's closing delimiter, hence never a complete body
      expect(Buffer.concat(out).toString('latin1')).not.to.include(`\r\n--${body.boundary}`);
      if ('size' in announced) expect(Buffer.concat(out).length).to.be.below(body.length);
    });
  }

  it('dispose() destroys the open document stream and opens no other', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced++;
        this.push(Buffer.alloc(1024, 1));
      },
    });
    const first: MultipartFile = { kind: 'file', name: 'endless', fileName: 'x', contentType: 'application/octet-stream', size: 1e9, sha256: '0'.repeat(64), open: () => endless };
    const second = file('second', 'second.pdf', Buffer.from('never read'));
    const body = new MultipartBody([first, second]);
    const reader = body.stream.getReader();
    for (let i = 0; i < 5; i++) await reader.read();
    expect(produced).to.be.greaterThan(0);
    body.dispose();
    await new Promise((r) => setImmediate(r));
    expect(endless.destroyed).to.equal(true);
    expect(second.opens).to.equal(0);
    expect(body.failure).to.equal(undefined);
  });

  it('refuses part names and media types that would break the headers', () => {
    expect(() => new MultipartBody([{ ...file('bad"name', 'f', Buffer.from('x')) }])).to.throw(TypeError);
    expect(() => new MultipartBody([{ ...file('ok', 'f', Buffer.from('x')), contentType: 'text/plain\r\nX-Evil: 1' }])).to.throw(TypeError);
  });
});

describe('part file names', () => {
  const cases: Array<[string, string]> = [
    ['report.pdf', 'report.pdf'],
    ['annual report 2025.pdf', 'annual report 2025.pdf'],
    ['résumé.pdf', 'r%C3%A9sum%C3%A9.pdf'],
    ['€ invoice.pdf', '%E2%82%AC%20invoice.pdf'],
    ['日本語.txt', '%E6%97%A5%E6%9C%AC%E8%AA%9E.txt'],
    ['100%.pdf', '100%25.pdf'],
    ['say "hi".txt', 'say%20%22hi%22.txt'],
    ['dir/file.txt', 'dir%2Ffile.txt'],
    ['line\r\nbreak', 'line%0D%0Abreak'],
  ];
  for (const [name, encoded] of cases) {
    it(`${JSON.stringify(name)} → ${encoded}, and back`, () => {
      expect(encodePartFileName(name)).to.equal(encoded);
      expect(percentDecode(encodePartFileName(name))).to.equal(name);
    });
  }

  it('replaces lone surrogates instead of throwing', () => {
    expect(percentDecode(encodePartFileName('a\uD800b.pdf'))).to.equal('a\uFFFDb.pdf');
  });
});

describe('Idempotency-Key as an RFC 8941 string', () => {
  it('quotes and escapes', () => {
    expect(sfString('8e03978e-40d5-43e8-bc93-6894a57f9324')).to.equal('"8e03978e-40d5-43e8-bc93-6894a57f9324"');
    expect(sfString('a"b\\c')).to.equal('"a\\"b\\\\c"');
  });

  it('refuses what an sf-string cannot carry', () => {
    expect(() => sfString('clé')).to.throw(TypeError);
    expect(() => sfString('a\nb')).to.throw(TypeError);
  });
});

describe('HTTP part names of the documents', () => {
  it('keeps plain, distinct part names', () => {
    expect(httpPartNames([{ partName: 'main' }, { partName: 'annex-1.pdf' }])).to.deep.equal(['main', 'annex-1.pdf']);
  });

  it('numbers the parts when a name is unusable or repeated', () => {
    expect(httpPartNames([{ partName: 'main' }, { partName: 'main' }])).to.deep.equal(['document1', 'document2']);
    expect(httpPartNames([{ partName: 'annexe été' }])).to.deep.equal(['document1']);
    expect(httpPartNames([{ partName: 'metadata' }])).to.deep.equal(['document1']);
  });
});
