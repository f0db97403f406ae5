/**
 * `node:module` in the verification page's bundle: the crypto layer loads pkijs lazily with
 * `createRequire(import.meta.url)('pkijs')` (engine.ts); in the bundle pkijs is bundled and
 * this `require` hands it over.
 */
import * as pkijs from 'pkijs';

const MODULES: Record<string, unknown> = { pkijs };

export function createRequire(_from: string | URL): (id: string) => unknown {
  return (id: string) => {
    if (!(id in MODULES)) throw new Error(`${id} is not in the verification page's bundle`);
    return MODULES[id];
  };
}
export default { createRequire };
