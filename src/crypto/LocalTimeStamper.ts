/**
 * Time-stamps from the built-in authority, in process: no network, the same tokens and the
 * same answer checks as over HTTP.
 */
import { randomPositiveInteger } from './random.js';
import type { TimeStampAuthority } from './TimeStampAuthority.js';
import { checkTokenAnswers, sha256Imprint, type TimeStamper } from './TimeStamper.js';

export class LocalTimeStamper implements TimeStamper {
  constructor(readonly tsa: TimeStampAuthority) {}

  async timestamp(data: Uint8Array): Promise<Uint8Array> {
    const imprint = sha256Imprint(data);
    const nonce = randomPositiveInteger(8);
    const token = await this.tsa.issueToken(imprint, { nonce, certReq: true });
    await checkTokenAnswers(token, { ...imprint, nonce, policy: this.tsa.policyOid });
    return token;
  }
}
