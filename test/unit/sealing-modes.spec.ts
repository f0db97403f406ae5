/**
 * The Sealer's choice of thread (src/registered-mail/sealing.ts): worker threads when the
 * compiled worker exists, the main thread otherwise (as here, under tsx, or with SEAL_THREADS=0,
 * an external time-stamper, a signer whose key is not in this process) — said in the log —
 * always with the one proof writer; each seals proofs that verify. The worker-thread pool
 * itself runs the compiled worker, built for the test (test/helpers/build.ts).
 */
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { expect } from 'chai';
import type { Logger } from 'pino';
import {
  KeyObjectSigner,
  LocalTimeStamper,
  SealingPool,
  TimeStampAuthority,
  WebCryptoSigner,
  signerFor,
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
  it('under tsx (no compiled worker) seals in the main thread and logs why', async () => {
    expect(SealingPool.workerFile()).to.equal(undefined);
    const pki = await devPki('ECDSA-P256');
    const lines: string[] = [];
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY, accuracyMs: 1 })), { threads: 2, log: logger(lines) });
    expect(sealer.mode).to.equal('in-thread');
    expect(lines.join('\n')).to.match(/sealing: in the main thread: the compiled sealing worker .* is absent/);
    const sealed = await sealer.seal(statement(1), new Date(Date.now() - 1000));
    expect((await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
    expect(new TextDecoder().decode(sealed.der)).to.contain(sealed.statementText);
    await sealer.close();
  });

  it('with another time-stamper, checks its answer: a token over other data is SEALING_FAILED', async () => {
    const pki = await devPki('RSA-2048');
    const tsa = new TimeStampAuthority(pki.tsa, { policyOid: POLICY });
    const honest: TimeStamper = { timestamp: (data) => new LocalTimeStamper(tsa).timestamp(data) };
    const lines: string[] = [];
    const sealer = new Sealer(pki.seal, honest, { threads: 2, log: logger(lines) });
    expect(sealer.mode).to.equal('in-thread');
    expect(lines.join('\n')).to.contain('worker threads need the built-in TSA');
    const sealed = await sealer.seal(statement(2), new Date(Date.now() - 1000));
    expect((await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
    const lying = new Sealer(pki.seal, { timestamp: () => new LocalTimeStamper(tsa).timestamp(Uint8Array.of(1, 2, 3)) });
    const err = await lying.seal(statement(3), new Date()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ServiceError);
    expect((err as ServiceError).code).to.equal('SEALING_FAILED');
  });

  it('with SEAL_THREADS=0 seals in the main thread and says so', async () => {
    const pki = await devPki('ECDSA-P384');
    const lines: string[] = [];
    const sealer = new Sealer(pki.seal, new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY })), { threads: 0, log: logger(lines) });
    expect(sealer.mode).to.equal('in-thread');
    expect(lines.join('\n')).to.contain('SEAL_THREADS=0');
    const sealed = await sealer.seal(statement(4), new Date(Date.now() - 1000));
    expect((await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] })).indication).to.equal('TOTAL_PASSED');
  });

  it('seals with a signer that signs asynchronously only (a key of another WebCrypto engine), in the main thread', async () => {
    const pki = await devPki('ECDSA-P256');
    // A CryptoKey of another WebCrypto engine (as a token's would be): node:crypto cannot use it.
    const engine = new PeculiarCrypto();
    const privateKey = await engine.subtle.importKey('pkcs8', new Uint8Array(pki.sealKeyPkcs8), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
    const foreign: SigningIdentity = { ...pki.seal, privateKey };
    const tsa = new LocalTimeStamper(new TimeStampAuthority(pki.tsa, { policyOid: POLICY }));
    expect(() => new Sealer(foreign, tsa)).to.throw(TypeError, /not a node:crypto key/);
    const signer = signerFor(foreign, engine);
    expect(signer).to.be.instanceOf(WebCryptoSigner);
    expect(signer.signSync).to.equal(undefined);
    const lines: string[] = [];
    const sealer = new Sealer(signer, tsa, { threads: 1, log: logger(lines) });
    expect(sealer.mode).to.equal('in-thread');
    expect(lines.join('\n')).to.contain('worker threads need a sealing key held in this process');
    for (let i = 0; i < 3; i++) {
      const sealed = await sealer.seal(statement(10 + i), new Date(Date.now() - 1000));
      const report = await verifyCadesT(sealed.der, { trustAnchors: [pki.root.certificate] });
      expect(report.indication).to.equal('TOTAL_PASSED');
      expect(new TextDecoder().decode(report.content)).to.equal(sealed.statementText);
    }
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
      const signer = signerFor(pki.seal);
      expect(signer).to.be.instanceOf(KeyObjectSigner);
      const pool = new SealingPool(2, { seal: (signer as KeyObjectSigner).identity, tsa: tsa.nativeConfig()! }, compiled);
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
