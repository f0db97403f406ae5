/**
 * The layering of src/ (docs/architecture.md), enforced by eslint-plugin-boundaries: each
 * folder is an element, and an import is refused unless a policy below allows it.
 *
 *   domain          imports nothing else of src/
 *   crypto          imports nothing else of src/
 *   config          the domain and net (src/config.ts, src/logger.ts)
 *   net, store      the domain (store: and the configuration's types)
 *   worker          the store and the domain
 *   capabilities    registered-mail, notifications, audit, access: the kernel below them, their
 *                   own files, and another capability only through its index.ts
 *   http            the capabilities and the kernel's domain and crypto — never the store
 *   app             the composition root: everything of src/
 *   cli             the composition root, the capabilities it runs, the kernel
 *   dev             simulators: anything of src/; nothing of src/ imports dev/
 *   browser         code bundled for the browser (the verification page): the crypto layer,
 *                   the domain and audit's index.ts (its platform-neutral verifier); nothing
 *                   of src/ imports it
 */
import boundaries from 'eslint-plugin-boundaries';

const CAPABILITIES = ['registered-mail', 'notifications', 'audit', 'access'];
const folder = (type, pattern) => ({ type, pattern, partialMatch: false });
const to = (...types) => ({
  to: [{ element: { types: { anyOf: types.filter((t) => t !== 'config') } } }, ...(types.includes('config') ? [{ file: { categories: 'config' } }] : [])],
});
/** `from` may import any file of its own element, and the elements named */
const allow = (from, ...types) => ({ from: from === 'config' ? { file: { categories: 'config' } } : { element: { type: from } }, allow: to(from, ...types) });

export const layers = {
  files: ['src/**/*.ts', 'dev/**/*.ts'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { typescript: { project: './tsconfig.json' } },
    // the configuration and the logger: files of src/ itself, below everything but the domain and net
    'boundaries/files': [{ category: 'config', pattern: 'src/*.ts' }],
    'boundaries/elements': [
      folder('domain', 'src/domain'),
      folder('crypto', 'src/crypto'),
      folder('net', 'src/net'),
      folder('store', 'src/store'),
      folder('worker', 'src/worker'),
      ...CAPABILITIES.map((c) => folder(c, `src/${c}`)),
      folder('http', 'src/http'),
      folder('app', 'src/app'),
      folder('cli', 'src/cli'),
      folder('dev', 'dev'),
      folder('browser', 'src/browser'),
    ],
  },
  rules: {
    'boundaries/dependencies': [
      'error',
      {
        default: 'disallow',
        policies: [
          // packages and Node's own modules: any element
          { allow: { to: { module: { origin: ['external', 'core'] } } } },
          allow('domain'),
          allow('crypto'),
          allow('config', 'domain', 'net'),
          allow('net', 'domain'),
          allow('store', 'domain', 'config'),
          allow('worker', 'store', 'domain', 'config'),
          ...CAPABILITIES.map((c) => allow(c, 'domain', 'crypto', 'net', 'store', 'worker', 'config')),
          // another capability: its public face only
          ...CAPABILITIES.map((c) => ({
            from: { element: { type: c } },
            allow: { to: { element: { types: { anyOf: CAPABILITIES.filter((o) => o !== c) }, fileInternalPath: 'index.ts' } } },
          })),
          allow('http', ...CAPABILITIES, 'domain', 'crypto', 'config', 'worker', 'app'),
          allow('app', 'domain', 'crypto', 'net', 'store', 'worker', ...CAPABILITIES, 'http', 'config'),
          allow('cli', 'app', ...CAPABILITIES, 'http', 'domain', 'crypto', 'config'),
          allow('browser', 'domain', 'crypto'),
          { from: { element: { type: 'browser' } }, allow: { to: { element: { types: { anyOf: ['audit'] }, fileInternalPath: 'index.ts' } } } },
          allow('dev', 'domain', 'crypto', 'net', 'store', 'worker', ...CAPABILITIES, 'http', 'app', 'config'),
        ],
      },
    ],
    // a file of src/ that no element names is refused: every new folder gets its place above
    'boundaries/no-unknown-files': 'error',
  },
};
