/**
 * The Sealer's choice of path (src/registered-mail/sealing.ts): fast path in worker threads when the
 * compiled worker exists, in the main thread otherwise (as here, under tsx) — said in the log —
 * and the object path for a key that is not a node key; each seals proofs that verify. The
 * worker-thread pool itself runs the compiled worker, built for the test (test/helpers/build.ts).
 */
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { expect } from 'chai';
import type { Logger } from 'pino';
import {
  LocalTimeStamper,
  SealingPool,
  TimeStampAuthority,
  nativeSigningIdentity,
  verifyCadesT,
  type SigningIdentity,
  type TimeStamper,
} from '../../src/crypto/index.js';
import { ServiceError } from '../../src/domain/errors.js';
import { buildStatement } from '../../src/domain/EvidenceStatement.js';
import { Sealer } from '../../src/registered-mail/sealing.js';
import { COMPILED, ensureBuild } from '../helpers/build.js';
import { devPki } from './crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';

function logger(lines: string[]): Logger {
  return { info: (_obj: unknown, msg: string) => lines.push(msg) } as unknown as Logger;
}

function statement(n: number) {
  return buildStatement({
    evidenceId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    type: 'SubmissionAcceptance',
    eventTime: new Date(),
    policyOid: '2.25.1',
    issuerName: 'test',
    sender: { id: 's', name: 'Sender', reference: null },
    recipient: { type: 'citizen', id: '85073003328' },
    submissionTime: new Date(),
    messageId: 'm',
    subject: { en: 'hello' },
    documents: [{ partName: 'main', fileName: 'a.pdf', mediaType: 'application/pdf', size: 1, isMain: true, sha256: '0'.repeat(64) }],
    previousEvidenceSha256: null,
  });
}

describe('sealing: the Sealer chooses its path and says so', () => {
  it('under tsx (no compiled worker) seals with the fast path in the main thread and logs why', async () => {
    expect(SealingPool.workerFile()).to.equal(undefined);
    const pki = await devPki('ECDSA-P256');
    const lines: string[] = [];
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 })), { threads: 2, log: logger(lines) });
    expect(sealer.mode).to.equal('fast-in-thread');
    expect(lines.join('\n')).to.match(/sealing: fast path in the main thread: the compiled sealing worker .* is absent/);
    const sealed = await sealer.seal(statement(1), new Date(Date.now() - 1000));
    expect((await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
    expect(new TextDecoder().decode(sealed.der)).to.contain(sealed.statementText);
    await sealer.close();
  });

  it('with another time-stamper, checks its answer: a token over other data is SEALING_FAILED', async () => {
    const pki = await devPki('RSA-2048');
    const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY });
    const honest: TimeStamper = { timestamp: (data) => new LocalTimeStamper(tsa).timestamp(data) };
    const sealer = new Sealer(pki.seal, honest, { threads: 2 });
    expect(sealer.mode).to.equal('fast-in-thread');
    const sealed = await sealer.seal(statement(2), new Date(Date.now() - 1000));
    expect((await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
    const lying = new Sealer(pki.seal, { timestamp: () => new LocalTimeStamper(tsa).timestamp(Uint8Array.of(1, 2, 3)) });
    const err = await lying.seal(statement(3), new Date()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ServiceError);
    expect((err as ServiceError).code).to.equal('SEALING_FAILED');
  });

  it('takes the object path for a key that is not a node key', async () => {
    const pki = await devPki('ECDSA-P256');
    // A CryptoKey of another WebCrypto engine (as an HSM's would be): KeyObject.from refuses it.
    const engine = new PeculiarCrypto();
    const privateKey = await engine.subtle.importKey('pkcs8', new Uint8Array(pki.sealKeyPkcs8), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const foreign: SigningIdentity = { ...pki.seal, privateKey };
    expect(nativeSigningIdentity(foreign)).to.equal(undefined);
    const lines: string[] = [];
    const sealer = new Sealer(foreign, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY })), { threads: 1, log: logger(lines) });
    expect(sealer.mode).to.equal('object');
    expect(lines.join('\n')).to.contain('object path');
  });

  describe('the compiled worker (dist/, built for the test)', () => {
    before(async function () {
      this.timeout(300_000); // a first build from nothing on a busy machine
      await ensureBuild();
    });

    it('seals in worker threads', async () => {
      const compiled = COMPILED.sealWorker;
      const pki = await devPki('ECDSA-P256');
      const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 });
      const pool = new SealingPool(2, { seal: nativeSigningIdentity(pki.seal)!, tsa: tsa.nativeConfig()! }, compiled);
      try {
        const proofs = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.seal(new TextEncoder().encode(`{"n":${i}}`), new Date(Date.now() - 1000))));
        for (const [i, proof] of proofs.entries()) {
          const report = await verifyCadesT(proof, { trustAnchors: [pki.root.certificate] });
          expect(report.indication).to.equal('TOTAL_PASSED');
          expect(new TextDecoder().decode(report.content)).to.equal(`{"n":${i}}`);
        }
      } finally {
        await pool.close();
      }
    });
  });
});
