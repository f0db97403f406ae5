/**
 * Reading a multipart/form-data body with busboy, streaming each file part to whoever takes
 * it (the intake of POST /v1/messages, the batch intake of POST /v1/messages/batches).
 */
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import type { Request } from 'express';
import { ServiceError } from '../domain/errors.js';

/** What the body is fed to. The first failure is kept by the receiver (`fail`). */
export interface MultipartSink {
  limits: busboy.Limits;
  /** the whole body, when it must stay under a size: past it, `tooLarge()` refuses the request */
  maxBytes?: number;
  tooLarge?: () => ServiceError;
  fail(error: ServiceError): void;
  field(name: string, value: string, truncated: boolean): void;
  /** must consume `stream` */
  file(name: string, stream: Readable, info: { filename?: string; mimeType: string }): void;
  partsLimit(): void;
  fieldsLimit(): void;
}

/**
 * Feeds the multipart body to the sink, streaming each file part. Resolves when the body
 * has been read; rejects with MULTIPART_INVALID when it cannot be (a body that ends inside a
 * part, a broken boundary), with CLIENT_GONE when the client disconnects first, and with the
 * sink's `tooLarge()` once the body passes `maxBytes`. Every stream that can fail has its
 * error listener before any of its data moves, and on any failure every part still streaming
 * is destroyed, so its staging ends (temp file removed, descriptor closed) at once rather
 * than when the request object is collected.
 */
export function readMultipart(req: Request, sink: MultipartSink): Promise<void> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, defParamCharset: 'utf8', limits: sink.limits });
    } catch (err) {
      return reject(new ServiceError('MULTIPART_INVALID', 'the multipart body cannot be read (missing boundary?)', { cause: err }));
    }
    const streaming = new Set<Readable>();
    let settled = false;
    const stop = (error: ServiceError) => {
      sink.fail(error);
      if (settled) return;
      settled = true;
      req.unpipe(bb);
      for (const s of streaming) s.destroy(error);
      streaming.clear();
      bb.removeAllListeners('close');
      bb.on('error', () => undefined);
      bb.destroy();
      reject(error);
    };
    bb.on('field', (name, value, info) => sink.field(name, value, info.valueTruncated));
    bb.on('file', (name, stream, info) => {
      // busboy fails a part's stream when the body ends inside it: listened to before anything else
      streaming.add(stream);
      stream.on('error', (err) => stop(multipartInvalid(err)));
      stream.once('close', () => streaming.delete(stream));
      sink.file(name, stream, { filename: info.filename, mimeType: info.mimeType });
    });
    bb.on('partsLimit', () => sink.partsLimit());
    bb.on('fieldsLimit', () => sink.fieldsLimit());
    bb.on('error', (err) => stop(multipartInvalid(err)));
    bb.on('close', () => {
      settled = true;
      resolve();
    });
    req.on('error', () => stop(clientGone()));
    req.on('close', () => {
      if (!req.complete) stop(clientGone());
    });
    if (sink.maxBytes !== undefined && sink.tooLarge) {
      const max = sink.maxBytes;
      const tooLarge = sink.tooLarge;
      let seen = 0;
      req.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > max) stop(tooLarge());
      });
    }
    req.pipe(bb);
  });
}

export function multipartInvalid(cause: unknown): ServiceError {
  return new ServiceError('MULTIPART_INVALID', 'the multipart body is malformed or ends inside a part (each part, and the body, must end with its boundary)', { cause });
}

export function clientGone(): ServiceError {
  return new ServiceError('CLIENT_GONE', 'the client closed the connection before the upload was complete');
}
