/**
 * Development PKI generator: a root, a sealing certificate and a TSA certificate per key
 * algorithm, in certs-dev/<p256|p384|rsa2048|rsa3072>/. Never for production.
 *
 *   tsx scripts/dev-certs.ts [--dir certs-dev] [--algorithm ECDSA-P256|ECDSA-P384|RSA-2048|RSA-3072|all] [--force]
 *   tsx scripts/dev-certs.ts --pkcs11 --token-label LABEL --pin-file FILE [--module SO] [--algorithm …] [--dir certs-dev]
 *
 * Without --algorithm: ECDSA-P256 and RSA-2048. Without --force, existing complete sets are
 * kept (ensureDevPki); with it they are replaced (generateDevPki).
 *
 * With --pkcs11 the sealing and TSA keys are generated inside an initialised PKCS#11 token
 * (SoftHSM2: `softhsm2-util --init-token --free --label LABEL`), sensitive and never
 * extractable; only the certificates are written, to <dir>/pkcs11/<p256|…>/, and stored on the
 * token beside their keys. It prints the settings that run the service with them.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { DEV_OCSP_URL, KEY_ALGORITHMS, devPkiDirName, ensureDevPki, generateDevPki, generateDevPkiOnToken, type KeyAlgorithm } from '../src/crypto/index.js';

const USAGE =
  'usage: npm run dev-certs -- [--dir certs-dev] [--algorithm ECDSA-P256|ECDSA-P384|RSA-2048|RSA-3072|all]... [--force] [--ocsp]\n' +
  '       npm run dev-certs -- --pkcs11 --token-label LABEL --pin-file FILE [--module SO] [--algorithm …]... [--dir certs-dev]';

/** Where Debian and others put SoftHSM2's module. */
const SOFTHSM_MODULES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib64/softhsm/libsofthsm2.so'];

/** A usage error: to stderr, exit 3, as the other tools. */
function usage(message: string): never {
  console.error(`dev-certs: ${message}`);
  console.error(USAGE);
  process.exit(3);
}

/** --help: to stdout, exit 0. */
function help(): never {
  console.log(`${USAGE}

Creates the development PKI (root, sealing and TSA certificates with their keys) per key
algorithm in <dir>/<p256|p384|rsa2048|rsa3072>/. Never for production.

  --dir DIR          where to write (default certs-dev)
  --algorithm ALG    ECDSA-P256, ECDSA-P384, RSA-2048, RSA-3072 or all; repeatable
                     (default ECDSA-P256 and RSA-2048)
  --force            replace existing sets (default: complete sets are kept)
  --ocsp             the certificates name the development OCSP responder (${DEV_OCSP_URL}),
                     for SEAL_REVOCATION=ocsp; without, only the CRL distribution point
  --pkcs11           generate the sealing and TSA keys inside a PKCS#11 token instead
                     (sensitive, never extractable); writes only certificates, to
                     <dir>/pkcs11/<p256|p384|rsa2048|rsa3072>/
  --module SO        the PKCS#11 module (default: SoftHSM2's, where installed)
  --token-label L    the initialised token (softhsm2-util --init-token --free --label L)
  --pin-file FILE    file holding the token's user PIN (mode 0600)
  -h, --help         this help`);
  process.exit(0);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string', default: 'certs-dev' },
        algorithm: { type: 'string', multiple: true },
        force: { type: 'boolean', default: false },
        ocsp: { type: 'boolean', default: false },
        pkcs11: { type: 'boolean', default: false },
        module: { type: 'string' },
        'token-label': { type: 'string' },
        'pin-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) help();
  const requested = values.algorithm ?? ['ECDSA-P256', 'RSA-2048'];
  const algorithms: KeyAlgorithm[] = requested.includes('all') ? [...KEY_ALGORITHMS] : [];
  if (!requested.includes('all')) {
    for (const a of requested) {
      if (!(KEY_ALGORITHMS as readonly string[]).includes(a)) usage(`unknown algorithm ${a}`);
      algorithms.push(a as KeyAlgorithm);
    }
  }
  if (values.pkcs11) {
    const module = values.module ?? SOFTHSM_MODULES.find((m) => existsSync(m));
    if (!module) usage('--module is required: SoftHSM2 is not installed where expected (apt-get install softhsm2)');
    if (!values['token-label']) usage('--pkcs11 needs --token-label');
    if (!values['pin-file']) usage('--pkcs11 needs --pin-file');
    if (values.force) usage('--force does not apply with --pkcs11: use a new token, or delete the keys on it');
    const where = { module, tokenLabel: values['token-label'], pinFile: path.resolve(values['pin-file']) };
    for (const algorithm of algorithms) {
      const dir = path.join(values.dir, 'pkcs11', devPkiDirName(algorithm));
      const pki = await generateDevPkiOnToken(where, algorithm, dir);
      console.log(`${algorithm}: keys generated in token "${where.tokenLabel}" (sensitive, never extractable); certificates in ${dir}`);
      console.log(`  KEY_ALGORITHM=${algorithm}`);
      for (const [prefix, label] of [['SEAL', pki.sealKeyLabel], ['TSA', pki.tsaKeyLabel]] as const) {
        console.log(`  ${prefix}_PKCS11_MODULE=${module} ${prefix}_PKCS11_TOKEN_LABEL=${where.tokenLabel} ${prefix}_PKCS11_KEY_LABEL=${label} ${prefix}_PKCS11_PIN_FILE=${where.pinFile}`);
      }
      console.log(`  trust anchor of the proofs: ${pki.root}`);
    }
    console.log('DEVELOPMENT PKI: never use these keys outside development and tests.');
    return;
  }
  for (const algorithm of algorithms) {
    const dir = path.join(values.dir, devPkiDirName(algorithm));
    const options = values.ocsp ? { ocspUrl: DEV_OCSP_URL } : {};
    const paths = values.force ? await generateDevPki(dir, algorithm, options) : await ensureDevPki(dir, algorithm, options);
    console.log(`${algorithm}: ${values.force ? 'generated' : 'ready'} in ${dir}`);
    for (const [name, file] of Object.entries(paths)) {
      const absent = name === 'crl' && !existsSync(file);
      console.log(`  ${name.padEnd(8)} ${file}${absent ? ' (absent: this set was made before CRLs; --force replaces it)' : ''}`);
    }
  }
  console.log('DEVELOPMENT PKI: never use these keys outside development and tests.');
}

main().catch((err: unknown) => {
  console.error(`dev-certs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
