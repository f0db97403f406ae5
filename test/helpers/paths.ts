import os from 'node:os';
import path from 'node:path';

/** One development PKI for the whole test run (key generation is slow for RSA). */
export const TEST_CERTS_DIR = path.join(os.tmpdir(), `rm-test-certs-${process.pid}`);
