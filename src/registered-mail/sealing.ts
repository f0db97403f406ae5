/**
 * Seals evidence statements as CAdES-T proofs with the service's key and time-stamper, with
 * the one proof writer (src/crypto/CadesT.ts) — CAdES-B-LT when revocation data is asked for
 * (SEAL_REVOCATION, revocation.ts: added in this thread once the time-stamp is known). Two ways, chosen once at start (and logged):
 * - worker threads (`threads` ≥ 1, the default: SEAL_THREADS, cores − 1): a pool of
 *   compiled workers (src/crypto/workers/), each writing whole proofs with the built-in
 *   TSA's token writer. Needs the compiled JavaScript (dist/), a key held in this process and
 *   the built-in TSA with its default clock and serials;
 * - in this thread: with `threads` 0, or when one of those is missing (running under tsx, an
 *   external TSA — whose HTTP round trip, not the signing, then takes the time — or a key
 *   elsewhere). A key in a PKCS#11 token (Pkcs11.ts) is such a key: the token signs, on
 *   libuv's thread pool through a pool of sessions, so this thread only hashes and writes
 *   DER; worker threads would each need the token's sessions, and PKCS#11 state
 *   (C_Initialize, the login) is one per process, not per thread.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import {
  CadesTWriter,
  KeyObjectSigner,
  LocalTimeStamper,
  PadesWriter,
  Pkcs11UnavailableError,
  SealingPool,
  signerFor,
  TimeStampError,
  type Signer,
  type SigningIdentity,
  type TimeStamper,
} from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import { canonicalStatementBytes, type EvidenceStatement } from '../domain/EvidenceStatement.js';
import { RevocationError, type LongTermSealing } from './revocation.js';

export interface SealedEvidence {
  der: Uint8Array;
  sha256: string;
  statementText: string;
}

export interface SealerOptions {
  /** Worker threads for sealing; 0 seals in this thread. Default 0 (the runtime passes its configuration). */
  threads?: number;
  log?: Logger;
  /**
   * Makes every proof CAdES-B-LT: the certification paths and the CRLs of the sealing and TSA
   * certificates, gathered after the time-stamp (revocation.ts). Absent: CAdES-B-T.
   */
  longTerm?: LongTermSealing;
  /** Certificates that may complete the paths (the TSA's chain when it is not the sealing chain). */
  extraCertificates?: readonly Uint8Array[];
}

export type SealingMode = 'worker-threads' | 'in-thread';

export class Sealer {
  readonly mode: SealingMode;
  private readonly writer: CadesTWriter;
  /** The time-stamper to ask, unless the built-in TSA's writer runs in this thread. */
  private readonly stamper: TimeStamper | undefined;
  private readonly pool: SealingPool | undefined;
  /** The PDF signature writer (receipts), made on first use. */
  private pades: PadesWriter | undefined;
  private readonly signer: Signer;
  private readonly longTerm: LongTermSealing | undefined;
  private readonly extraCertificates: readonly Uint8Array[];

  constructor(
    identity: SigningIdentity | Signer,
    readonly timeStamper: TimeStamper,
    options: SealerOptions = {},
  ) {
    const signer = signerFor(identity);
    this.signer = signer;
    this.longTerm = options.longTerm;
    this.extraCertificates = options.extraCertificates ?? [];
    const tsa = timeStamper instanceof LocalTimeStamper ? timeStamper.tsa : undefined;
    this.writer = new CadesTWriter(signer, tsa?.tokenTemplate);
    this.stamper = this.writer.synchronous ? undefined : timeStamper;
    const threads = options.threads ?? 0;
    const tsaConfig = tsa?.nativeConfig();
    const workerFile = SealingPool.workerFile();
    let why: string;
    if (threads === 0) why = 'in the main thread (SEAL_THREADS=0)';
    else if (!(signer instanceof KeyObjectSigner)) why = 'in the main thread: worker threads need a sealing key held in this process (a key in a PKCS#11 token signs through its own sessions, off the event loop)';
    else if (!tsaConfig) why = 'in the main thread: worker threads need the built-in TSA with its default clock and serial numbers';
    else if (!workerFile) why = 'in the main thread: the compiled sealing worker (dist/src/crypto/workers/sealWorker.js) is absent — running from the TypeScript sources';
    else {
      this.pool = new SealingPool(threads, { seal: signer.identity, tsa: tsaConfig }, workerFile);
      why = `in ${threads} worker thread${threads > 1 ? 's' : ''} (${workerFile})`;
    }
    this.mode = this.pool ? 'worker-threads' : 'in-thread';
    options.log?.info({ sealing: this.mode, threads: this.pool ? threads : 0 }, `sealing: ${why}`);
  }

  async seal(statement: EvidenceStatement, signingTime: Date): Promise<SealedEvidence> {
    const content = canonicalStatementBytes(statement);
    let der: Uint8Array;
    try {
      if (this.pool) der = await this.pool.seal(content, signingTime);
      else if (!this.stamper) der = this.writer.sealSync(content, signingTime);
      else der = await this.writer.seal(content, this.stamper, signingTime);
    } catch (err) {
      throw sealingError(err, 'the evidence could not be sealed');
    }
    if (this.longTerm) {
      try {
        der = (await this.longTerm.extend(der, this.extraCertificates)).der;
      } catch (err) {
        throw sealingError(err, 'the revocation data of the evidence could not be added');
      }
    }
    return { der, sha256: createHash('sha256').update(der).digest('hex'), statementText: new TextDecoder().decode(content) };
  }

  /** The largest PDF signature (DER) `signPdf` can return: what a placeholder must hold. */
  get pdfSignatureMaxLength(): number {
    // a time-stamp token with its TSA's certificate: 1–3 KB; 8 KiB leaves room for a chain (a
    // larger token makes the receipt be written again with room for it)
    return this.padesWriter().maxLength(8 * 1024);
  }

  /**
   * The PAdES B-T signature (CMS, DER) over a PDF's signed byte range, with the sealing key
   * and the service's time-stamper, in this thread (receipts are made on demand).
   */
  async signPdf(signedBytes: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.padesWriter().sign(signedBytes, this.timeStamper);
    } catch (err) {
      throw sealingError(err, 'the receipt could not be signed');
    }
  }

  private padesWriter(): PadesWriter {
    return (this.pades ??= new PadesWriter(this.signer));
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}

/** A signing failure as the API reports it: the TSA or the HSM away is 503, anything else 500. */
function sealingError(err: unknown, what: string): ServiceError {
  if (err instanceof TimeStampError && ['TSA_TIMEOUT', 'TSA_UNAVAILABLE', 'TSA_HTTP_ERROR'].includes(err.code)) {
    return new ServiceError('TSA_UNAVAILABLE', 'the time-stamping authority did not answer; try again later', { cause: err });
  }
  if (err instanceof RevocationError && err.code === 'UNAVAILABLE') {
    return new ServiceError('REVOCATION_UNAVAILABLE', 'the revocation data of the sealing or TSA certificate cannot be had now; try again later', { cause: err, retryAfterSeconds: 30 });
  }
  if (err instanceof Pkcs11UnavailableError) {
    return new ServiceError('SIGNING_KEY_UNAVAILABLE', 'the signing key in the HSM does not answer; try again later', { cause: err, retryAfterSeconds: 10 });
  }
  return new ServiceError('SEALING_FAILED', what, { cause: err });
}
