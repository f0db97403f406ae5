/**
 * Reads a publication's multipart/form-data body as it streams (busboy): the `metadata`
 * part first, then the file parts it names in `attachments[].httpPartName`. Every file
 * part is hashed (SHA-256) and counted on the fly and then forgotten: the simulator keeps
 * sizes and digests, never the bytes.
 *
 * The whole body is always read, even after a failure, so the client gets the answer
 * instead of a reset connection. File names are percent-decoded (RFC 7578 §4.2; the
 * e-Box wants names outside ISO-8859-1 percent-encoded).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { ProblemType } from './Problem.js';
import { MAX_ATTACHMENTS, readPublicationMetadata, type PublicationMetadata } from './PublicationMetadata.js';

export interface ReceivedPart {
  httpPartName: string;
  /** percent-decoded file name, if the part had one */
  fileName: string | undefined;
  /** the part's Content-Type */
  mediaType: string;
  size: number;
  sha256: string;
}

export interface IntakeFailure {
  ok: false;
  status: number;
  type: ProblemType;
  detail: string;
}

export type IntakeResult = { ok: true; metadata: PublicationMetadata; parts: ReceivedPart[] } | IntakeFailure;

export interface IntakeLimits {
  maxDocumentBytes: number;
  maxMetadataBytes: number;
}

export function readPublication(
  req: IncomingMessage,
  limits: IntakeLimits,
  now: () => number,
  onBytes: (n: number) => void,
): Promise<IntakeResult> {
  return new Promise((resolve) => {
    let failure: IntakeFailure | undefined;
    const fail = (status: number, type: ProblemType, detail: string): void => {
      failure ??= { ok: false, status, type, detail };
    };
    let metadata: PublicationMetadata | undefined;
    let metadataSeen = false;
    const received = new Map<string, ReceivedPart>();
    const pending: Promise<void>[] = [];
    let settled = false;
    const finish = (result: IntakeResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };

    const takeMetadata = (text: string, truncated: boolean): void => {
      if (metadataSeen) return fail(400, 'invalid-request', 'the metadata part appears twice');
      metadataSeen = true;
      if (truncated) return fail(400, 'invalid-request', `the metadata part is larger than ${limits.maxMetadataBytes} bytes`);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return fail(400, 'invalid-request', 'the metadata part is not JSON');
      }
      const read = readPublicationMetadata(json, now());
      if (!read.ok) return fail(400, 'invalid-request', read.detail);
      metadata = read.metadata;
    };

    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: req.headers,
        defParamCharset: 'latin1',
        limits: {
          files: MAX_ATTACHMENTS + 1,
          fields: 1,
          parts: MAX_ATTACHMENTS + 2,
          fieldSize: limits.maxMetadataBytes,
          fileSize: limits.maxDocumentBytes,
          headerPairs: 20,
        },
      });
    } catch {
      req.resume();
      return finish({ ok: false, status: 400, type: 'invalid-request', detail: 'the body is not multipart/form-data with a boundary' });
    }

    bb.on('field', (name, value, info) => {
      if (name !== 'metadata') return fail(400, 'invalid-request', `unexpected form field "${name}"`);
      takeMetadata(value, info.valueTruncated);
    });

    bb.on('file', (name, stream, info) => {
      if (name === 'metadata') {
        pending.push(collect(stream, limits.maxMetadataBytes).then(({ text, truncated }) => takeMetadata(text, truncated)));
        return;
      }
      if (!metadataSeen) {
        fail(400, 'invalid-request', 'the metadata part must come before the attachments');
        return void stream.resume();
      }
      const declared = metadata?.attachments.find((a) => a.httpPartName === name);
      if (metadata && !declared) {
        fail(400, 'invalid-request', `part "${name}" is not declared in metadata.attachments`);
        return void stream.resume();
      }
      if (received.has(name)) {
        fail(400, 'invalid-request', `part "${name}" appears twice`);
        return void stream.resume();
      }
      const hash = createHash('sha256');
      let size = 0;
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        size += chunk.length;
        onBytes(chunk.length);
      });
      stream.on('limit', () => fail(413, 'document-too-large', `part "${name}" is larger than ${limits.maxDocumentBytes} bytes`));
      pending.push(
        new Promise<void>((done) => {
          stream.on('end', () => {
            received.set(name, {
              httpPartName: name,
              fileName: info.filename === undefined ? undefined : percentDecode(info.filename),
              mediaType: info.mimeType,
              size,
              sha256: hash.digest('hex'),
            });
            done();
          });
          stream.on('error', () => done());
        }),
      );
    });

    bb.on('filesLimit', () => fail(400, 'invalid-request', `at most ${MAX_ATTACHMENTS} attachments per publication`));
    bb.on('partsLimit', () => fail(400, 'invalid-request', 'too many parts'));
    bb.on('fieldsLimit', () => fail(400, 'invalid-request', 'too many form fields'));
    bb.on('error', (err: Error) => {
      req.unpipe(bb);
      req.resume();
      finish({ ok: false, status: 400, type: 'invalid-request', detail: `the multipart body is malformed: ${err.message}` });
    });
    bb.on('close', () => {
      void Promise.all(pending).then(() => finish(conclude(failure, metadata, received)));
    });
    const aborted = (): void => finish({ ok: false, status: 400, type: 'invalid-request', detail: 'the client aborted the upload' });
    if (req.destroyed) return aborted(); // gone while the simulated latency held the request
    req.on('aborted', aborted);
    req.on('close', () => {
      if (!req.complete) aborted();
    });
    req.on('error', aborted);
    req.pipe(bb);
  });
}

function conclude(
  failure: IntakeFailure | undefined,
  metadata: PublicationMetadata | undefined,
  received: Map<string, ReceivedPart>,
): IntakeResult {
  if (failure) return failure;
  if (!metadata) return { ok: false, status: 400, type: 'invalid-request', detail: 'the metadata part is missing' };
  const parts: ReceivedPart[] = [];
  for (const a of metadata.attachments) {
    const part = received.get(a.httpPartName);
    if (!part) return { ok: false, status: 400, type: 'invalid-request', detail: `attachment "${a.httpPartName}" is declared but its part is missing` };
    if (part.sha256 !== a.sha256) {
      return {
        ok: false,
        status: 400,
        type: 'digest-mismatch',
        detail: `attachment "${a.httpPartName}": received ${part.size} bytes with SHA-256 ${part.sha256}, metadata announces ${a.sha256}`,
      };
    }
    parts.push(part);
  }
  return { ok: true, metadata, parts };
}

async function collect(stream: Readable, max: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size + chunk.length > max) truncated = true;
    if (truncated) continue;
    size += chunk.length;
    chunks.push(chunk);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}

/** Percent-decodes a part's file name; a name that is not valid percent-encoding is kept as sent. */
export function percentDecode(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
