/**
 * Bouncy Castle as a second, independent CAdES-T verifier: compiles
 * test/fixtures/crypto/bouncycastle/VerifyCadesT.java against the Debian jars (libbcpkix-java)
 * and runs it on proofs. A missing JDK or jar is an error, never a skip: `.ci/run` installs them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
export const BC_JARS = ['bcprov.jar', 'bcutil.jar', 'bcpkix.jar'].map((j) => path.join('/usr/share/java', j));
const SOURCE = path.join(ROOT, 'test/fixtures/crypto/bouncycastle/VerifyCadesT.java');

function exec(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      // a command that cannot be run at all (ENOENT) is a missing tool: fail loudly
      if (err && typeof (err as NodeJS.ErrnoException).code === 'string') return reject(new Error(`${cmd} cannot be run (${(err as NodeJS.ErrnoException).code}): install a JDK (default-jdk-headless)`));
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

export interface BcResult {
  file: string;
  ok: boolean;
  /** the signed content Bouncy Castle read, when it passed */
  content?: Uint8Array;
  /** the stable code of the check that failed (VerifyCadesT.java lists them), when it did */
  code?: string;
  /** why it failed, for the reader */
  reason?: string;
}

export interface BcVerifier {
  /** Checks each proof file against the root certificate (PEM or DER file), in one JVM. */
  verify(rootFile: string, files: string[]): Promise<{ code: number; out: string; results: BcResult[] }>;
  close(): Promise<void>;
}

/** Compiles one Java fixture against the Bouncy Castle jars into a temporary folder; throws if javac, java or a jar is missing. */
async function compileJava(source: string, prefix: string): Promise<{ dir: string; classpath: string }> {
  const missing = BC_JARS.filter((j) => !existsSync(j));
  if (missing.length > 0) throw new Error(`Bouncy Castle jars missing (${missing.join(', ')}): apt-get install libbcpkix-java`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  const compiled = await exec('javac', ['-nowarn', '-cp', BC_JARS.join(':'), '-d', dir, source]);
  if (compiled.code !== 0) {
    await fs.rm(dir, { recursive: true, force: true });
    throw new Error(`javac failed:\n${compiled.out}`);
  }
  return { dir, classpath: [...BC_JARS, dir].join(':') };
}

/** The fixtures' result lines: `BC: OK <file>` and `BC: FAILED <file> <CODE>: <reason>`. */
function okOrFailedLines(out: string): BcResult[] {
  const results: BcResult[] = [];
  for (const line of out.split('\n')) {
    const ok = /^BC: OK (\S+)$/.exec(line);
    if (ok) results.push({ file: ok[1]!, ok: true });
    const failed = /^BC: FAILED (\S+) ([A-Z0-9_]+): (.*)$/.exec(line);
    if (failed) results.push({ file: failed[1]!, ok: false, code: failed[2]!, reason: failed[3]! });
  }
  return results;
}

/** Compiles the verifier into a temporary folder; throws if javac, java or a jar is missing. */
export async function compileBouncyCastleVerifier(): Promise<BcVerifier> {
  const { dir, classpath } = await compileJava(SOURCE, 'rm-bc-');
  return {
    async verify(rootFile, files) {
      const r = await exec('java', ['-cp', classpath, 'VerifyCadesT', '--root', rootFile, ...files]);
      const results: BcResult[] = [];
      for (const line of r.out.split('\n')) {
        const ok = /^BC: OK (\S+) content=(\S*)$/.exec(line);
        if (ok) results.push({ file: ok[1]!, ok: true, content: new Uint8Array(Buffer.from(ok[2]!, 'base64')) });
        const failed = /^BC: FAILED (\S+) ([A-Z0-9_]+): (.*)$/.exec(line);
        if (failed) results.push({ file: failed[1]!, ok: false, code: failed[2]!, reason: failed[3]! });
      }
      return { ...r, results };
    },
    async close() {
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface BcEvidenceRecordVerifier {
  /**
   * Checks each record for its leaf digest, or for its data (a file: needed after a hash-tree
   * renewal), against the root certificate(s: comma-separated files), in one JVM.
   */
  verify(rootFile: string, records: ({ file: string; leaf: Uint8Array } | { file: string; dataFile: string })[]): Promise<{ code: number; out: string; results: BcResult[] }>;
  /** The root Bouncy Castle's BinaryTreeRootCalculator computes over the leaf digests (file of concatenated values of `algorithm`, default SHA-256). */
  treeRoot(leavesFile: string, algorithm?: 'SHA-256' | 'SHA-384' | 'SHA-512'): Promise<Uint8Array>;
  /** The imprint (algorithm OID, value) Bouncy Castle asks for to renew a record's hash tree for its data alone (generateHashRenewalRequest). */
  hashRenewalLeaf(algorithm: 'SHA-256' | 'SHA-384' | 'SHA-512', recordFile: string, dataFile: string): Promise<{ oid: string; value: Uint8Array }>;
  close(): Promise<void>;
}

/**
 * Compiles test/fixtures/crypto/bouncycastle/VerifyEvidenceRecord.java (Bouncy Castle's RFC 4998
 * classes, org.bouncycastle.tsp.ers); throws if javac, java or a jar is missing.
 */
export async function compileBouncyCastleEvidenceRecordVerifier(): Promise<BcEvidenceRecordVerifier> {
  const { dir, classpath } = await compileJava(path.join(ROOT, 'test/fixtures/crypto/bouncycastle/VerifyEvidenceRecord.java'), 'rm-bc-ers-');
  return {
    async verify(rootFile, records) {
      const args = records.map((x) => ('dataFile' in x ? `${x.file}=@${x.dataFile}` : `${x.file}=${Buffer.from(x.leaf).toString('hex')}`));
      const r = await exec('java', ['-cp', classpath, 'VerifyEvidenceRecord', '--root', rootFile, ...args]);
      return { ...r, results: okOrFailedLines(r.out) };
    },
    async hashRenewalLeaf(algorithm, recordFile, dataFile) {
      const r = await exec('java', ['-cp', classpath, 'VerifyEvidenceRecord', '--hash-renewal-leaf', algorithm, recordFile, dataFile]);
      const m = /^BC: RENEWAL ([0-9.]+) ([0-9a-f]+)$/m.exec(r.out);
      if (r.code !== 0 || !m) throw new Error(`Bouncy Castle computed no renewal imprint:\n${r.out}`);
      return { oid: m[1]!, value: new Uint8Array(Buffer.from(m[2]!, 'hex')) };
    },
    async treeRoot(leavesFile, algorithm = 'SHA-256') {
      const r = await exec('java', ['-cp', classpath, 'VerifyEvidenceRecord', '--tree-root', leavesFile, algorithm]);
      const m = /^BC: ROOT ([0-9a-f]+)$/m.exec(r.out);
      if (r.code !== 0 || !m) throw new Error(`Bouncy Castle computed no root:\n${r.out}`);
      return new Uint8Array(Buffer.from(m[1]!, 'hex'));
    },
    async close() {
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Compiles test/fixtures/crypto/bouncycastle/ValidateLtPath.java: Bouncy Castle validates the
 * signer's and the TSA's paths of a B-LT proof with revocation checking, from the proof's own
 * certificates and CRLs (CMSSignedData.getCRLs()). Throws if javac, java or a jar is missing.
 */
export async function compileBouncyCastleLtValidator(): Promise<BcVerifier> {
  const { dir, classpath } = await compileJava(path.join(ROOT, 'test/fixtures/crypto/bouncycastle/ValidateLtPath.java'), 'rm-bc-lt-');
  return {
    async verify(rootFile, files) {
      const r = await exec('java', ['-cp', classpath, 'ValidateLtPath', '--root', rootFile, ...files]);
      return { ...r, results: okOrFailedLines(r.out) };
    },
    async close() {
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
