/**
 * Time-stamps from the built-in authority, in process: no network, the same tokens and the
 * same answer checks as over HTTP.
 */
import type { HashName } from './AlgorithmIdentifier.js';
import { randomPositiveInteger } from './random.js';
import type { TimeStampAuthority } from './TimeStampAuthority.js';
import { checkTokenAnswers, digestImprint, sha256Imprint, type DigestTimeStamper } from './TimeStamper.js';
import type { MessageImprint } from './TSTInfo.js';

export class LocalTimeStamper implements DigestTimeStamper {
  constructor(readonly tsa: TimeStampAuthority) {}

  timestamp(data: Uint8Array): Promise<Uint8Array> {
    return this.stamp(sha256Imprint(data));
  }

  /** A token whose messageImprint is `algorithm` (default SHA-256) with `hashedMessage`. */
  timestampDigest(hashedMessage: Uint8Array, algorithm: HashName = 'SHA-256'): Promise<Uint8Array> {
    return this.stamp(digestImprint(hashedMessage, algorithm));
  }

  private async stamp(imprint: MessageImprint): Promise<Uint8Array> {
    const nonce = randomPositiveInteger(8);
    const token = await this.tsa.issueToken(imprint, { nonce, certReq: true });
    await checkTokenAnswers(token, { ...imprint, nonce, policy: this.tsa.policyOid });
    return token;
  }
}
