/**
 * Keys in a PKCS#11 token (SoftHSM2, the same API as a network HSM), for every key algorithm:
 * the development keys are generated on the token, the sealing and TSA signers sign there,
 * and verifiers no one here wrote judge the result — `openssl cms -verify -cades` and
 * `ts -verify` for proofs, `ts -verify -queryfile` for the TSA's answers, Bouncy Castle for
 * proofs. The token's own tools show the keys sensitive and never extractable. Set-up
 * mistakes are start-up errors naming the setting; a lost session makes a signature fail
 * (to be retried) and the next one succeed.
 *
 * Fails, never skips, without SoftHSM2, pkcs11-tool, OpenSSL or a JDK with libbcpkix-java.
 */
import { expect } from 'chai';
import { createPublicKey, verify } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  CadesTWriter,
  Pkcs11SetupError,
  Pkcs11Signer,
  Pkcs11UnavailableError,
  TimeStampAuthority,
  extractTimeStamp,
  generateDevPkiOnToken,
  readCertificateFile,
  tokenKeyProtection,
  verifyCadesT,
  type DevTokenPki,
  type KeyAlgorithm,
  type Signer,
} from '../../src/crypto/index.js';
import { parseCertificate } from '../../src/crypto/Certificate.js';
import { compileBouncyCastleVerifier, type BcVerifier } from '../helpers/bouncycastle.js';
import { closeAllSessions, softHsm, type SoftHsm, type Token } from '../helpers/softhsm.js';
import { ALGORITHMS, bytes, opensslOk, tempDir } from '../unit/crypto/helpers.js';

const POLICY = '1.3.6.1.4.1.99999.1.3161';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('keys in a PKCS#11 token (SoftHSM2): proofs and time-stamps verified by OpenSSL and Bouncy Castle', function () {
  this.timeout(120_000);
  let hsm: SoftHsm;
  let bc: BcVerifier;
  before(async () => {
    hsm = await softHsm();
    bc = await compileBouncyCastleVerifier();
  });
  after(async () => bc?.close());

  for (const algorithm of ALGORITHMS) {
    describe(algorithm, () => {
      let dir: string;
      let token: Token;
      let pki: DevTokenPki;
      let seal: Pkcs11Signer;
      let tsaSigner: Pkcs11Signer;
      let tsa: TimeStampAuthority;
      const file = (name: string) => path.join(dir, name);

      before(async () => {
        dir = await tempDir('pkcs11-');
        token = await hsm.initToken();
        pki = await generateDevPkiOnToken(token, algorithm, path.join(dir, 'pki'));
        // the sealing certificate and its chain from the token; the TSA's from the files
        seal = await Pkcs11Signer.open({ ...token, keyLabel: pki.sealKeyLabel });
        tsaSigner = await Pkcs11Signer.open({ ...token, keyLabel: pki.tsaKeyLabel, certFile: pki.tsaCert, chainFile: pki.root, sessions: 2 });
        tsa = new TimeStampAuthority(tsaSigner, { policyOid: POLICY, accuracyMs: 1 });
        await fs.writeFile(file('data.txt'), 'data to time-stamp\n');
      });
      after(async () => {
        await seal?.close();
        await tsaSigner?.close();
        await fs.rm(dir, { recursive: true, force: true });
      });

      it('the signers take their certificates from the token and from files: the same as written', async () => {
        const [sealCert] = await readCertificateFile(pki.sealCert);
        const [root] = await readCertificateFile(pki.root);
        expect(seal.algorithm).to.equal(algorithm);
        expect(hex(seal.certificate)).to.equal(hex(sealCert!));
        expect(seal.chain.map(hex), 'the chain read from the token is the issuer path only').to.deep.equal([hex(root!)]);
        expect(tsaSigner.chain.map(hex)).to.deep.equal([hex(root!)]);
        expect((seal as Signer).signSync, 'a token key signs asynchronously only').to.equal(undefined);
        expect(tsa.synchronous).to.equal(false);
      });

      it('proofs sealed with the token keys: openssl cms -verify -cades, ts -verify, Bouncy Castle, and our verifier accept them', async () => {
        const writer = new CadesTWriter(seal, tsa.tokenTemplate);
        expect(writer.synchronous).to.equal(false);
        const files: string[] = [];
        // several at once: the session pools sign them side by side
        const contents = Array.from({ length: 6 }, (_, i) => new TextEncoder().encode(JSON.stringify({ EvidenceIdentifier: `pkcs11-${algorithm}-${i}`, n: 'x'.repeat(i * 40) })));
        const proofs = await Promise.all(contents.map((c) => writer.seal(c, undefined, new Date(Date.now() - 1000))));
        for (const [i, proof] of proofs.entries()) {
          const name = `proof${i}`;
          await fs.writeFile(file(`${name}.der`), proof);
          files.push(file(`${name}.der`));
          await opensslOk(['cms', '-verify', '-cades', '-binary', '-inform', 'DER', '-in', file(`${name}.der`), '-CAfile', pki.root, '-out', file(`${name}.content`)]);
          expect(hex(bytes(await fs.readFile(file(`${name}.content`))))).to.equal(hex(contents[i]!));
          const out = await opensslOk(['cms', '-cmsout', '-inform', 'DER', '-in', file(`${name}.der`), '-outform', 'DER']);
          expect(hex(bytes(out.stdout)), 'cms -cmsout re-encodes to the same bytes').to.equal(hex(proof));
          const { token: stamp, signatureValue } = extractTimeStamp(proof);
          await fs.writeFile(file(`${name}.token`), stamp);
          await fs.writeFile(file(`${name}.sig`), signatureValue);
          const ts = await opensslOk(['ts', '-verify', '-token_in', '-in', file(`${name}.token`), '-data', file(`${name}.sig`), '-CAfile', pki.root, '-untrusted', pki.tsaCert]);
          expect(ts.stdout.toString()).to.contain('Verification: OK');
          const [root] = await readCertificateFile(pki.root);
          expect((await verifyCadesT(proof, { trustAnchors: [root!] })).indication).to.equal('TOTAL_PASSED');
        }
        const result = await bc.verify(pki.root, files);
        expect(result.results, result.out).to.have.length(files.length);
        for (const r of result.results) expect(r.ok, `${r.file}: ${r.code} ${r.reason}`).to.equal(true);
        expect(result.code).to.equal(0);
      });

      it("the built-in TSA's answers to openssl ts -query, signed on the token: ts -verify -queryfile OK", async () => {
        for (const [name, args] of [
          ['cert', ['-sha256', '-cert']],
          ['nocert', ['-sha384', '-no_nonce']],
        ] as const) {
          await opensslOk(['ts', '-query', '-data', file('data.txt'), ...args, '-out', file(`${name}.tsq`)]);
          const reply = await tsa.respond(bytes(await fs.readFile(file(`${name}.tsq`))));
          await fs.writeFile(file(`${name}.tsr`), reply);
          const verified = await opensslOk(['ts', '-verify', '-queryfile', file(`${name}.tsq`), '-in', file(`${name}.tsr`), '-CAfile', pki.root, '-untrusted', pki.tsaCert]);
          expect(verified.stdout.toString()).to.contain('Verification: OK');
        }
      });

      it('the private keys are sensitive and never extractable: the token says so, pkcs11-tool shows it, and their value cannot be read', async () => {
        for (const keyLabel of [pki.sealKeyLabel, pki.tsaKeyLabel]) {
          const p = await tokenKeyProtection(token, { keyLabel });
          expect(p, keyLabel).to.deep.equal({ sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, valueReadable: false });
        }
        const listing = await hsm.pkcs11Tool(['--token-label', token.tokenLabel, '--login', '--pin', token.pin, '--list-objects', '--type', 'privkey']);
        for (const keyLabel of [pki.sealKeyLabel, pki.tsaKeyLabel]) {
          const block = listing.split(/\n(?=Private Key Object)/).find((b) => b.includes(`label:      ${keyLabel}`));
          expect(block, listing).to.not.equal(undefined);
          expect(block).to.match(/Access:\s+sensitive, always sensitive, never extractable, local/);
          expect(block, 'signing only').to.match(/Usage:\s+sign\n/);
        }
        // no private key file was written
        expect((await fs.readdir(path.join(dir, 'pki'))).sort()).to.deep.equal(['root.crl', 'root.pem', 'seal.pem', 'tsa.pem']);
      });
    });
  }

  describe('start-up errors name the setting', () => {
    let token: Token;
    let pki: DevTokenPki;
    let dir: string;
    const algorithm: KeyAlgorithm = 'ECDSA-P256';
    before(async () => {
      dir = await tempDir('pkcs11-errors-');
      token = await hsm.initToken();
      pki = await generateDevPkiOnToken(token, algorithm, path.join(dir, 'pki'));
    });
    after(() => fs.rm(dir, { recursive: true, force: true }));

    async function setupError(config: Parameters<typeof Pkcs11Signer.open>[0]): Promise<Pkcs11SetupError> {
      try {
        const s = await Pkcs11Signer.open(config);
        await s.close();
      } catch (err) {
        expect(err).to.be.instanceOf(Pkcs11SetupError);
        return err as Pkcs11SetupError;
      }
      throw new Error('Pkcs11Signer.open succeeded');
    }

    it('a wrong PIN', async () => {
      const pinFile = path.join(dir, 'wrong.pin');
      await fs.writeFile(pinFile, '000000\n', { mode: 0o600 });
      const err = await setupError({ ...token, pinFile, keyLabel: pki.sealKeyLabel });
      expect(err.setting).to.equal('pinFile');
      expect(err.message).to.match(/wrong PIN/);
      expect(err.message).to.not.contain(token.pin);
    });

    it('a PIN file others can read', async () => {
      const pinFile = path.join(dir, 'open.pin');
      await fs.writeFile(pinFile, `${token.pin}\n`, { mode: 0o644 });
      await fs.chmod(pinFile, 0o644);
      const err = await setupError({ ...token, pinFile, keyLabel: pki.sealKeyLabel });
      expect(err.setting).to.equal('pinFile');
      expect(err.message).to.match(/0644.*chmod 600/);
    });

    it('a missing key', async () => {
      const err = await setupError({ ...token, keyLabel: 'no-such-key' });
      expect(err.setting).to.equal('key');
      expect(err.message).to.contain('no private key with label "no-such-key"');
    });

    it('a certificate that does not certify the key', async () => {
      const err = await setupError({ ...token, keyLabel: pki.sealKeyLabel, certFile: pki.tsaCert });
      expect(err.setting).to.equal('certFile');
      expect(err.message).to.match(/does not certify the key/);
    });

    it('an unknown token and a module that is not there', async () => {
      const token1 = await setupError({ ...token, tokenLabel: 'no-such-token', keyLabel: pki.sealKeyLabel });
      expect(token1.setting).to.equal('token');
      expect(token1.message).to.contain(`"${token.tokenLabel}"`);
      const module = await setupError({ ...token, module: path.join(dir, 'nope.so'), keyLabel: pki.sealKeyLabel });
      expect(module.setting).to.equal('module');
    });
  });

  describe('a lost session', () => {
    it('makes a signature fail as unavailable, is reported, and the next signature opens new sessions', async () => {
      const dir = await tempDir('pkcs11-lost-');
      const token = await hsm.initToken();
      const pki = await generateDevPkiOnToken(token, 'ECDSA-P256', path.join(dir, 'pki'));
      const signer = await Pkcs11Signer.open({ ...token, keyLabel: pki.sealKeyLabel, sessions: 2 });
      const states: string[] = [];
      signer.onStateChange = (state) => states.push(state);
      try {
        expect(await signer.check()).to.equal('ok');
        // another user of the module in this process closes every session on the token (as a token reset does)
        closeAllSessions(hsm.module, token.tokenLabel);
        let failed: unknown;
        await signer.sign(Uint8Array.of(1)).catch((err: unknown) => (failed = err));
        expect(failed).to.be.instanceOf(Pkcs11UnavailableError);
        expect(signer.lost).to.match(/CKR_SESSION_HANDLE_INVALID/);
        expect(states).to.deep.equal(['unavailable']);
        // the next one logs in again on new sessions, and the signature is good
        const data = new TextEncoder().encode('after the loss');
        const signature = await signer.sign(data);
        const [cert] = await readCertificateFile(pki.sealCert);
        const key = createPublicKey({ key: Buffer.from(parseCertificate(cert!).publicKey.der), format: 'der', type: 'spki' });
        expect(verify('sha256', data, { key, dsaEncoding: 'der' }, signature)).to.equal(true);
        expect(states).to.deep.equal(['unavailable', 'ok']);
        expect(signer.lost).to.equal(undefined);
        expect(await signer.check()).to.equal('ok');

        // lost again with more signatures asked for than there are sessions: those holding a
        // session fail as unavailable, those waiting for one are served on the new sessions; none hangs
        closeAllSessions(hsm.module, token.tokenLabel);
        const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => signer.sign(Uint8Array.of(i))));
        const failures = outcomes.filter((o) => o.status === 'rejected');
        for (const f of failures) expect((f as PromiseRejectedResult).reason).to.be.instanceOf(Pkcs11UnavailableError);
        expect(failures.length, 'at most the signatures that held a session fail').to.be.within(1, 2);
        for (const [i, o] of outcomes.entries()) {
          if (o.status === 'fulfilled') expect(verify('sha256', Uint8Array.of(i), { key, dsaEncoding: 'der' }, o.value)).to.equal(true);
        }
        expect(signer.lost).to.equal(undefined);
      } finally {
        await signer.close();
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  });
});
