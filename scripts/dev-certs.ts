/**
 * Development PKI generator: a root, a sealing certificate and a TSA certificate per key
 * algorithm, in certs-dev/<p256|p384|rsa2048|rsa3072>/. Never for production.
 *
 *   tsx scripts/dev-certs.ts [--dir certs-dev] [--algorithm ECDSA-P256|ECDSA-P384|RSA-2048|RSA-3072|all] [--force]
 *
 * Without --algorithm: ECDSA-P256 and RSA-2048. Without --force, existing complete sets are
 * kept (ensureDevPki); with it they are replaced (generateDevPki).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { KEY_ALGORITHMS, devPkiDirName, ensureDevPki, generateDevPki, type KeyAlgorithm } from '../src/crypto/index.js';

const USAGE = 'usage: npm run dev-certs -- [--dir certs-dev] [--algorithm ECDSA-P256|ECDSA-P384|RSA-2048|RSA-3072|all]... [--force]';

/** A usage error: to stderr, exit 2. */
function usage(message: string): never {
  console.error(`dev-certs: ${message}`);
  console.error(USAGE);
  process.exit(2);
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
  for (const algorithm of algorithms) {
    const dir = path.join(values.dir, devPkiDirName(algorithm));
    const paths = values.force ? await generateDevPki(dir, algorithm) : await ensureDevPki(dir, algorithm);
    console.log(`${algorithm}: ${values.force ? 'generated' : 'ready'} in ${dir}`);
    for (const [name, file] of Object.entries(paths)) console.log(`  ${name.padEnd(8)} ${file}`);
  }
  console.log('DEVELOPMENT PKI: never use these keys outside development and tests.');
}

main().catch((err: unknown) => {
  console.error(`dev-certs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
