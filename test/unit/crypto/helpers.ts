/**
 * Shared by the crypto unit and interop tests: the algorithms to loop over, a memoised dev
 * PKI per algorithm, sealing with the proof writer, temporary directories, and running the
 * OpenSSL CLI.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  CadesTWriter,
  createDevPki,
  KEY_ALGORITHMS,
  signerFor,
  type DevPki,
  type DevPkiOptions,
  type KeyAlgorithm,
  type SigningIdentity,
  type TimeStamper,
} from '../../../src/crypto/index.js';

export const ALGORITHMS: readonly KeyAlgorithm[] = KEY_ALGORITHMS;

const pkis = new Map<string, Promise<DevPki>>();

/** A CAdES-B-T proof of `content` by the service's proof writer, time-stamped by `stamper` (checked to be over the signature). */
export function seal(content: Uint8Array, identity: SigningIdentity, stamper: TimeStamper, signingTime?: Date): Promise<Uint8Array> {
  return new CadesTWriter(signerFor(identity)).seal(content, stamper, signingTime);
}

/**
 * A CAdES-B of `content` by the proof writer (`der`, no time-stamp), its signature value, and
 * the same signature with any token as its signature time-stamp (`stamped`: not checked).
 */
export async function signB(content: Uint8Array, identity: SigningIdentity): Promise<{ der: Uint8Array; signature: Uint8Array; stamped(token: Uint8Array): Uint8Array }> {
  const writer = new CadesTWriter(signerFor(identity));
  const prepared = await writer.prepare(content);
  return { der: writer.assemble(prepared), signature: prepared.signature, stamped: (token) => writer.assemble(prepared, token) };
}

/** One in-memory dev PKI per algorithm and option set, shared by all tests of a run. */
export function devPki(algorithm: KeyAlgorithm, options: DevPkiOptions = {}): Promise<DevPki> {
  const key = `${algorithm}/${JSON.stringify(options)}`;
  let p = pkis.get(key);
  if (!p) {
    p = createDevPki(algorithm, options);
    pkis.set(key, p);
  }
  return p;
}

export async function tempDir(prefix = 'crypto-test-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs `openssl args…`, never rejecting: the exit code is in the result. */
export function openssl(args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile('openssl', args, { cwd: options.cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString('utf8') });
    });
  });
}

/** Runs openssl and fails with its stderr when it exits non-zero. */
export async function opensslOk(args: string[], options: { cwd?: string } = {}): Promise<RunResult> {
  const r = await openssl(args, options);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout.toString('utf8')}`);
  return r;
}

export function bytes(buffer: Buffer | Uint8Array): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
