/**
 * Seals evidence statements as CAdES-T proofs with the service's key and time-stamper.
 *
 * Three ways, chosen once at start (and logged):
 * - worker threads (`threads` ≥ 1, the default: one per core): the fast path
 *   (src/crypto/FastSealer.ts) with the built-in TSA, in a pool of compiled workers
 *   (src/crypto/workers/). Needs the compiled JavaScript (dist/), native keys and the
 *   built-in TSA with its default clock and serials;
 * - the fast path in this thread: when the worker is absent (running under tsx), or with an
 *   external TSA (the HTTP round trip, not the signing, is then what takes time);
 * - the object path (`sealCadesT`): when a key is not a node key (another WebCrypto engine).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  FastSealer,
  LocalTimeStamper,
  nativeSigningIdentity,
  SealingPool,
  sealCadesT,
  TimeStampError,
  type SigningIdentity,
  type TimeStamper,
} from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import { canonicalStatementBytes, type EvidenceStatement } from '../domain/EvidenceStatement.js';

export interface SealedEvidence {
  der: Uint8Array;
  sha256: string;
  statementText: string;
}

export interface SealerOptions {
  /** Worker threads for sealing; 0 seals in this thread. Default 0 (the runtime passes its configuration). */
  threads?: number;
  log?: Logger;
}

export type SealingMode = 'worker-threads' | 'fast-in-thread' | 'object';

export class Sealer {
  readonly mode: SealingMode;
  private readonly fast: FastSealer | undefined;
  private readonly pool: SealingPool | undefined;

  constructor(
    readonly identity: SigningIdentity,
    readonly timeStamper: TimeStamper,
    options: SealerOptions = {},
  ) {
    const native = nativeSigningIdentity(identity);
    const tsa = timeStamper instanceof LocalTimeStamper ? timeStamper.tsa : undefined;
    if (native) this.fast = new FastSealer(native, tsa?.tokenTemplate);
    const threads = options.threads ?? 0;
    const tsaConfig = tsa?.nativeConfig();
    const workerFile = SealingPool.workerFile();
    let why: string;
    if (!native) why = 'object path (sealCadesT): the sealing key is not a node:crypto key';
    else if (threads === 0) why = 'fast path in the main thread (SEAL_THREADS=0)';
    else if (!tsaConfig) why = 'fast path in the main thread: worker threads need the built-in TSA with its default clock and serial numbers';
    else if (!workerFile) why = 'fast path in the main thread: the compiled sealing worker (dist/src/crypto/workers/sealWorker.js) is absent — running from the TypeScript sources';
    else {
      this.pool = new SealingPool(threads, { seal: native, tsa: tsaConfig }, workerFile);
      why = `fast path in ${threads} worker thread${threads > 1 ? 's' : ''} (${workerFile})`;
    }
    this.mode = this.pool ? 'worker-threads' : this.fast ? 'fast-in-thread' : 'object';
    options.log?.info({ sealing: this.mode, threads: this.pool ? threads : 0 }, `sealing: ${why}`);
  }

  async seal(statement: EvidenceStatement, signingTime: Date): Promise<SealedEvidence> {
    const content = canonicalStatementBytes(statement);
    let der: Uint8Array;
    try {
      if (this.pool) der = await this.pool.seal(content, signingTime);
      else if (this.fast?.synchronous) der = this.fast.sealSync(content, signingTime);
      else if (this.fast) der = await this.fast.seal(content, this.timeStamper, signingTime);
      else der = await sealCadesT(content, this.identity, this.timeStamper, { signingTime });
    } catch (err) {
      if (err instanceof TimeStampError && ['TSA_TIMEOUT', 'TSA_UNAVAILABLE', 'TSA_HTTP_ERROR'].includes(err.code)) {
        throw new ServiceError('TSA_UNAVAILABLE', 'the time-stamping authority did not answer; try again later', { cause: err });
      }
      throw new ServiceError('SEALING_FAILED', 'the evidence could not be sealed', { cause: err });
    }
    return { der, sha256: createHash('sha256').update(der).digest('hex'), statementText: new TextDecoder().decode(content) };
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
