/**
 * Seals evidence statements as CAdES-T proofs with the service's key and time-stamper.
 */
import { createHash } from 'node:crypto';
import { sealCadesT, TimeStampError, type SigningIdentity, type TimeStamper } from '../crypto/index.js';
import { ServiceError } from '../domain/errors.js';
import { canonicalStatementBytes, type EvidenceStatement } from '../domain/EvidenceStatement.js';

export interface SealedEvidence {
  der: Uint8Array;
  sha256: string;
  statementText: string;
}

export class Sealer {
  constructor(
    readonly identity: SigningIdentity,
    readonly timeStamper: TimeStamper,
  ) {}

  async seal(statement: EvidenceStatement, signingTime: Date): Promise<SealedEvidence> {
    const content = canonicalStatementBytes(statement);
    let der: Uint8Array;
    try {
      der = await sealCadesT(content, this.identity, this.timeStamper, { signingTime });
    } catch (err) {
      if (err instanceof TimeStampError && ['TSA_TIMEOUT', 'TSA_UNAVAILABLE', 'TSA_HTTP_ERROR'].includes(err.code)) {
        throw new ServiceError('TSA_UNAVAILABLE', 'the time-stamping authority did not answer; try again later', { cause: err });
      }
      throw new ServiceError('SEALING_FAILED', 'the evidence could not be sealed', { cause: err });
    }
    return { der, sha256: createHash('sha256').update(der).digest('hex'), statementText: new TextDecoder().decode(content) };
  }
}
