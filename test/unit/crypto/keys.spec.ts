import { expect } from 'chai';
import fs from 'node:fs/promises';
import path from 'node:path';
import { KeyFileError, generateDevPki, loadSigningIdentity, type DevPkiPaths, type SigningIdentitySource } from '../../../src/crypto/index.js';
import { keyMatchesCertificate } from '../../../src/crypto/SigningIdentity.js';
import { ALGORITHMS, openssl, opensslOk, tempDir } from './helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function expectCode(source: SigningIdentitySource, code: string): Promise<KeyFileError> {
  try {
    await loadSigningIdentity(source);
  } catch (err) {
    expect(err).to.be.instanceOf(KeyFileError);
    expect((err as KeyFileError).code).to.equal(code);
    return err as KeyFileError;
  }
  throw new Error(`expected KeyFileError ${code}`);
}

async function pemCerts(file: string): Promise<string[]> {
  const text = await fs.readFile(file, 'utf8');
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
}

const derOf = (pem: string) => hex(new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64')));

for (const algorithm of ALGORITHMS) {
  describe(`crypto/KeyFiles (${algorithm})`, () => {
    let dir: string;
    let paths: DevPkiPaths;
    before(async () => {
      dir = await tempDir();
      paths = await generateDevPki(path.join(dir, 'pki'), algorithm);
    });
    after(async () => {
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('loads a PKCS#8 PEM key with its certificate and chain', async () => {
      const identity = await loadSigningIdentity({ keyFile: paths.sealKey, certFile: paths.sealCert, chainFile: paths.root });
      expect(identity.algorithm).to.equal(algorithm);
      expect(identity.privateKey.extractable).to.equal(false);
      expect(hex(identity.certificate)).to.equal(derOf((await pemCerts(paths.sealCert))[0]!));
      expect(identity.chain.map(hex)).to.deep.equal([derOf((await pemCerts(paths.root))[0]!)]);
      expect(await keyMatchesCertificate(identity.privateKey, identity.algorithm, identity.certificate)).to.equal(true);
    });

    it('loads a certificate file holding the leaf followed by its chain', async () => {
      const bundle = path.join(dir, 'bundle.pem');
      await fs.writeFile(bundle, (await fs.readFile(paths.sealCert, 'utf8')) + (await fs.readFile(paths.root, 'utf8')));
      const identity = await loadSigningIdentity({ keyFile: paths.sealKey, certFile: bundle });
      expect(identity.chain).to.have.length(1);
    });

    it('converts traditional EC/RSA PEM keys to PKCS#8', async () => {
      const traditional = path.join(dir, 'traditional.key');
      await opensslOk(['pkey', '-in', paths.sealKey, '-traditional', '-out', traditional]);
      await fs.chmod(traditional, 0o600);
      const label = algorithm.startsWith('RSA') ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
      expect(await fs.readFile(traditional, 'utf8')).to.contain(`BEGIN ${label}`);
      const identity = await loadSigningIdentity({ keyFile: traditional, certFile: paths.sealCert, chainFile: paths.root });
      expect(identity.algorithm).to.equal(algorithm);
    });

    it('refuses a private key file readable by group or others (KEY_FILE_PERMISSIONS), before reading it', async () => {
      const loose = path.join(dir, 'loose.key');
      await fs.copyFile(paths.sealKey, loose);
      for (const mode of [0o644, 0o640, 0o604, 0o660]) {
        await fs.chmod(loose, mode);
        await expectCode({ keyFile: loose, certFile: paths.sealCert }, 'KEY_FILE_PERMISSIONS');
      }
      // a file we could not even read is refused for its mode first: stat comes before read
      await fs.chmod(loose, 0o244);
      await expectCode({ keyFile: loose, certFile: paths.sealCert }, 'KEY_FILE_PERMISSIONS');
    });

    it('reports a missing key or certificate file as KEY_FILE_UNREADABLE', async () => {
      await expectCode({ keyFile: path.join(dir, 'nope.key'), certFile: paths.sealCert }, 'KEY_FILE_UNREADABLE');
      await expectCode({ keyFile: paths.sealKey, certFile: path.join(dir, 'nope.pem') }, 'KEY_FILE_UNREADABLE');
    });

    it('reports unusable contents as KEY_FORMAT or CERT_FORMAT', async () => {
      const garbage = path.join(dir, 'garbage.key');
      await fs.writeFile(garbage, 'not a key\n', { mode: 0o600 });
      await expectCode({ keyFile: garbage, certFile: paths.sealCert }, 'KEY_FORMAT');
      const encrypted = path.join(dir, 'encrypted.key');
      await opensslOk(['pkcs8', '-topk8', '-in', paths.sealKey, '-passout', 'pass:secret', '-out', encrypted]);
      await fs.chmod(encrypted, 0o600);
      await expectCode({ keyFile: encrypted, certFile: paths.sealCert }, 'KEY_FORMAT');
      await expectCode({ keyFile: paths.sealKey, certFile: paths.sealKey }, 'CERT_FORMAT');
    });

    it('refuses a certificate that does not certify the key (CERT_KEY_MISMATCH)', async () => {
      await expectCode({ keyFile: paths.sealKey, certFile: paths.tsaCert, chainFile: paths.root }, 'CERT_KEY_MISMATCH');
      await expectCode({ keyFile: paths.sealKey, certFile: paths.root }, 'CERT_KEY_MISMATCH');
    });

    const p12Variants: [string, string[]][] = [
      ['OpenSSL 3 defaults (PBES2, AES-256-CBC, SHA-256 MAC)', []],
      ['PBE-SHA1-3DES', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
      ['-legacy (RC2-40 certificates, 3DES key; needs the OpenSSL legacy provider)', ['-legacy']],
    ];
    for (const [variant, flags] of p12Variants) {
      it(`loads a PKCS#12 file made by openssl pkcs12 -export: ${variant}`, async function () {
        const p12 = path.join(dir, `identity-${flags.length}.p12`);
        const made = await openssl(['pkcs12', '-export', '-inkey', paths.sealKey, '-in', paths.sealCert, '-certfile', paths.root, '-passout', 'pass:s3cret', '-out', p12, ...flags]);
        // no legacy provider in this OpenSSL: skipped outside CI only; in CI the expectation below fails
        if (made.code !== 0 && flags.includes('-legacy') && !process.env.CI) return this.skip();
        expect(made.code, made.stderr).to.equal(0);
        await fs.chmod(p12, 0o600);
        const identity = await loadSigningIdentity({ p12File: p12, password: 's3cret' });
        expect(identity.algorithm).to.equal(algorithm);
        // certificates come back byte for byte, leaf and chain told apart
        expect(hex(identity.certificate)).to.equal(derOf((await pemCerts(paths.sealCert))[0]!));
        expect(identity.chain.map(hex)).to.deep.equal([derOf((await pemCerts(paths.root))[0]!)]);
        await expectCode({ p12File: p12, password: 'wrong' }, 'P12_PASSWORD');
        await fs.chmod(p12, 0o644);
        await expectCode({ p12File: p12, password: 's3cret' }, 'KEY_FILE_PERMISSIONS');
      });
    }
  });
}
