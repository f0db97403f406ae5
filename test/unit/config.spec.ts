import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('has embedded defaults: SQLite under ./data, built-in TSA, dev PKI, port 8080', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(8080);
    expect(c.database).to.deep.equal({ client: 'sqlite', filename: path.resolve('data/registered-mail.sqlite') });
    expect(c.tsa.url).to.equal(undefined);
    expect(c.sealing).to.deep.equal({ kind: 'dev' });
    expect(c.keyAlgorithm).to.equal('ECDSA-P256');
    expect(c.intake.maxDocumentBytes).to.equal(50 * 1024 * 1024);
    expect(c.intake.maxDocuments).to.equal(6);
    expect(c.batch).to.deep.equal({ maxRows: 1000, maxBytes: 1024 * 1024 * 1024, maxManifestBytes: 8 * 1024 * 1024, zipMaxRatio: 100 });
  });

  it('revocation data in the proofs: crl in development (npm start), off in test and production; crl, ocsp or off asked for; limits and allow-list read', () => {
    expect(loadConfig({}).revocation).to.deep.equal({ mode: 'crl', modeSet: false, timeoutMs: 10_000, maxBytes: 10 * 1024 * 1024, allowPrivateTargets: [] });
    expect(loadConfig({ SEAL_REVOCATION: 'crl' }).revocation).to.include({ mode: 'crl', modeSet: true });
    expect(loadConfig({ APP_ENV: 'test' }).revocation.mode).to.equal('off');
    expect(loadConfig({ APP_ENV: 'production' }).revocation.mode).to.equal('off');
    for (const mode of ['crl', 'ocsp', 'off']) expect(loadConfig({ APP_ENV: 'production', SEAL_REVOCATION: mode }).revocation.mode).to.equal(mode);
    const c = loadConfig({ SEAL_REVOCATION_TIMEOUT_MS: '2500', SEAL_REVOCATION_MAX_BYTES: '65536', SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS: '127.0.0.1/32, ::1/128' });
    expect(c.revocation).to.deep.include({ timeoutMs: 2500, maxBytes: 65536, allowPrivateTargets: ['127.0.0.1/32', '::1/128'] });
    for (const [env, variable] of [
      [{ SEAL_REVOCATION: 'yes' }, 'SEAL_REVOCATION'],
      [{ SEAL_REVOCATION_TIMEOUT_MS: '10' }, 'SEAL_REVOCATION_TIMEOUT_MS'],
      [{ SEAL_REVOCATION_MAX_BYTES: '1' }, 'SEAL_REVOCATION_MAX_BYTES'],
      [{ SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS: 'localhost' }, 'SEAL_REVOCATION_ALLOW_PRIVATE_TARGETS'],
    ] as Array<[Record<string, string>, string]>) {
      expect(() => loadConfig(env), variable).to.throw(ConfigError, new RegExp(`^${variable}:`));
    }
  });

  it('evidence records: SHA-256 trees by default, SHA-384 or SHA-512 when named (hash-tree renewal into it), anything else refused', () => {
    expect(loadConfig({}).records).to.deep.equal({ intervalMs: 5_000, treeMaxLeaves: 16_384, renewBeforeMs: 180 * 86_400_000, renewIntervalMs: 3_600_000, hashAlgorithm: 'SHA-256' });
    for (const a of ['SHA-256', 'SHA-384', 'SHA-512']) expect(loadConfig({ RECORD_HASH_ALGORITHM: a }).records.hashAlgorithm).to.equal(a);
    for (const bad of ['SHA-1', 'sha512', 'SHA3-256']) {
      expect(() => loadConfig({ RECORD_HASH_ALGORITHM: bad }), bad).to.throw(ConfigError, /^RECORD_HASH_ALGORITHM:/);
    }
  });

  it('reads the batch limits and refuses bad ones, naming the variable', () => {
    const c = loadConfig({ BATCH_MAX_ROWS: '50', BATCH_MAX_BYTES: '1048576', BATCH_MAX_MANIFEST_BYTES: '65536', BATCH_ZIP_MAX_RATIO: '20' });
    expect(c.batch).to.deep.equal({ maxRows: 50, maxBytes: 1048576, maxManifestBytes: 65536, zipMaxRatio: 20 });
    for (const [env, variable] of [
      [{ BATCH_MAX_ROWS: '0' }, 'BATCH_MAX_ROWS'],
      [{ BATCH_MAX_ROWS: '10001' }, 'BATCH_MAX_ROWS'],
      [{ BATCH_MAX_BYTES: '1k' }, 'BATCH_MAX_BYTES'],
      [{ BATCH_MAX_MANIFEST_BYTES: '100' }, 'BATCH_MAX_MANIFEST_BYTES'],
      [{ BATCH_ZIP_MAX_RATIO: '1' }, 'BATCH_ZIP_MAX_RATIO'],
    ] as Array<[Record<string, string>, string]>) {
      expect(() => loadConfig(env), variable).to.throw(ConfigError, new RegExp(`^${variable}:`));
    }
  });

  it('reads PostgreSQL, an external TSA and PEM or PKCS#12 keys', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', TSA_URL: 'http://tsa.local/tsr', SEAL_KEY_FILE: 'k.pem', SEAL_CERT_FILE: 'c.pem', TSA_P12_FILE: 't.p12', TSA_P12_PASSWORD: 'x' });
    expect(c.database.client).to.equal('postgres');
    expect(c.tsa.url).to.equal('http://tsa.local/tsr');
    expect(c.sealing.kind).to.equal('pem');
    expect(c.tsa.key.kind).to.equal('pkcs12');
  });

  it('reads keys in a PKCS#11 token: module, token label or slot, key label and/or id, PIN file, certificate optional', () => {
    const c = loadConfig({
      SEAL_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      SEAL_PKCS11_TOKEN_LABEL: 'rm',
      SEAL_PKCS11_KEY_LABEL: 'rm-seal-p256',
      SEAL_PKCS11_PIN_FILE: 'pin',
      TSA_PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so',
      TSA_PKCS11_SLOT: '7',
      TSA_PKCS11_KEY_ID: '0A0B',
      TSA_PKCS11_PIN_FILE: '/run/pin',
      TSA_CERT_FILE: 'tsa.pem',
      TSA_PKCS11_SESSIONS: '8',
    });
    expect(c.sealing).to.deep.equal({ kind: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'rm', keyLabel: 'rm-seal-p256', pinFile: path.resolve('pin'), sessions: 4 });
    expect(c.tsa.key).to.deep.equal({ kind: 'pkcs11', module: '/usr/lib/softhsm/libsofthsm2.so', slot: 7, keyId: '0a0b', pinFile: '/run/pin', certFile: path.resolve('tsa.pem'), sessions: 8 });
  });

  const module = { SEAL_PKCS11_MODULE: '/m.so' };
  const token = { ...module, SEAL_PKCS11_TOKEN_LABEL: 't' };
  const key = { ...token, SEAL_PKCS11_KEY_LABEL: 'k' };
  for (const [env, variable] of [
    [module, 'SEAL_PKCS11_TOKEN_LABEL'],
    [{ ...token, SEAL_PKCS11_SLOT: '1' }, 'SEAL_PKCS11_TOKEN_LABEL'],
    [{ ...module, SEAL_PKCS11_SLOT: 'one' }, 'SEAL_PKCS11_SLOT'],
    [token, 'SEAL_PKCS11_KEY_LABEL'],
    [{ ...token, SEAL_PKCS11_KEY_ID: 'xyz' }, 'SEAL_PKCS11_KEY_ID'],
    [key, 'SEAL_PKCS11_PIN_FILE'],
    [{ ...key, SEAL_PKCS11_PIN_FILE: 'p', SEAL_KEY_FILE: 'k.pem' }, 'SEAL_KEY_FILE'],
    [{ ...key, SEAL_PKCS11_PIN_FILE: 'p', SEAL_PKCS11_SESSIONS: '0' }, 'SEAL_PKCS11_SESSIONS'],
  ] as Array<[Record<string, string>, string]>) {
    it(`refuses a PKCS#11 key source with ${variable} missing or wrong (${Object.keys(env).join(', ')})`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, new RegExp(`^${variable}:`));
    });
  }

  const bad: Array<[Record<string, string>, string]> = [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ KEY_ALGORITHM: 'DSA' }, 'KEY_ALGORITHM'],
    [{ TSA_URL: 'ftp://x' }, 'TSA_URL'],
    [{ SEAL_KEY_FILE: 'k.pem' }, 'SEAL_CERT_FILE'],
    [{ SEAL_P12_FILE: 'k.p12' }, 'SEAL_P12_PASSWORD'],
    [{ MAX_DOCUMENTS: '0' }, 'MAX_DOCUMENTS'],
    [{ EVIDENCE_POLICY_OID: 'not.an.oid' }, 'EVIDENCE_POLICY_OID'],
    [{ ALLOWED_MEDIA_TYPES: 'pdf' }, 'ALLOWED_MEDIA_TYPES'],
    [{ APP_ENV: 'prod' }, 'APP_ENV'],
  ];
  for (const [env, variable] of bad) {
    it(`names ${variable} when ${JSON.stringify(env)} is wrong`, () => {
      try {
        loadConfig(env);
        expect.fail('should have thrown');
      } catch (err) {
        expect(err).to.be.instanceOf(ConfigError);
        expect((err as ConfigError).variable).to.equal(variable);
      }
    });
  }
});
