/** Root hooks: remove the run's shared development PKI when the run ends. */
import fs from 'node:fs';
import { TEST_CERTS_DIR } from './helpers/paths.js';

export const mochaHooks = {
  afterAll() {
    fs.rmSync(TEST_CERTS_DIR, { recursive: true, force: true });
  },
};
