/** Runs the OpenSSL command-line tool, the independent verifier of what the service emits. */
import { execFile } from 'node:child_process';

export interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export function openssl(args: string[], input?: Uint8Array): Promise<Run> {
  return run('openssl', args, input);
}

export function run(cmd: string, args: string[], input?: Uint8Array): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(err);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString('utf8') });
    });
    if (input) child.stdin!.end(Buffer.from(input));
    else child.stdin!.end();
  });
}
