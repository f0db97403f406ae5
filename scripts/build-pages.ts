/**
 * Builds the verification page, dist/pages/verify.html: one self-contained HTML file (the
 * browser bundle of src/browser/verify/main.ts and its stylesheet inlined), so that a copy
 * saved to disk works offline. Its Content-Security-Policy allows exactly that script and that
 * style by their SHA-256 hashes (no 'unsafe-inline') and nothing else — no connection, no form,
 * no frame; it is in a <meta http-equiv> for the saved copy and in dist/pages/verify.csp, which
 * the service sends as the HTTP header (src/http/pages/verify.ts), with frame-ancestors.
 *
 * The bundle is made by esbuild. What the verifier takes from Node gets a browser equivalent:
 * `Buffer` from the npm `buffer` package, `node:crypto`'s hashes from @noble/hashes
 * (src/browser/verify/node-crypto.ts), `node:module`'s require of pkijs from the bundle.
 *
 *   npm run build:pages   (also run by npm run build, build:dev and the tests' build helper)
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The project: above scripts/, or above dist/scripts/ when compiled. */
const ROOT = path.basename(path.dirname(HERE)) === 'dist' ? path.resolve(HERE, '../..') : path.resolve(HERE, '..');
const SOURCE = path.join(ROOT, 'src/browser/verify');
export const PAGES_OUT = path.join(ROOT, 'dist/pages');

/** The Node modules the verifier imports, and what stands for them in the page. */
const NODE_STANDINS: Record<string, string> = {
  'node:crypto': path.join(SOURCE, 'node-crypto.ts'),
  'node:module': path.join(SOURCE, 'node-module.ts'),
};

const standins: esbuild.Plugin = {
  name: 'node-standins',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => {
      const to = NODE_STANDINS[args.path];
      if (!to) return { errors: [{ text: `${args.path} (imported by ${path.relative(ROOT, args.importer)}) has no stand-in in the verification page` }] };
      return { path: to };
    });
  },
};

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's policy: its one script and one style by hash, images only as data:, nothing else.
 * frame-ancestors is for the HTTP header only (a <meta> policy may not carry it: browsers
 * ignore it there and say so); the saved copy, opened from disk, is framed by no one.
 */
export function verifyPageCsp(script: string, style: string): { meta: string; header: string } {
  const meta = [
    "default-src 'none'",
    `script-src ${sha256Source(script)}`,
    `style-src ${sha256Source(style)}`,
    "img-src data:",
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
  return { meta, header: `${meta}; frame-ancestors 'none'` };
}

/**
 * Bundles `entry` (a file of src/browser/verify/) as the page's script is bundled: for the
 * browser, Node's modules replaced by their stand-ins. `format` esm makes a module the tests
 * can import to run the page's verifier under Node.
 */
export async function bundleForBrowser(entry: string, format: 'iife' | 'esm' = 'iife'): Promise<string> {
  const result = await esbuild.build({
    entryPoints: [path.join(SOURCE, entry)],
    bundle: true,
    write: false,
    format,
    platform: 'browser',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'none',
    charset: 'utf8',
    inject: [path.join(SOURCE, 'buffer-global.ts')],
    define: { 'import.meta.url': '"about:blank"', global: 'globalThis' },
    plugins: [standins],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text.trim();
}

export async function buildPages(): Promise<{ html: string; csp: { meta: string; header: string } }> {
  const script = await bundleForBrowser('main.ts');
  if (/<\/script/i.test(script) || script.includes('<!--')) throw new Error('the bundle contains "</script" or "<!--" and cannot be inlined');
  const style = fs.readFileSync(path.join(SOURCE, 'page.css'), 'utf8').trim();
  if (/<\/style/i.test(style)) throw new Error('the stylesheet contains "</style"');
  const csp = verifyPageCsp(script, style);
  const template = fs.readFileSync(path.join(SOURCE, 'page.html'), 'utf8');
  const html = template
    .replace('{{CSP}}', () => csp.meta.replace(/"/g, '&quot;'))
    .replace('{{STYLE}}', () => style)
    .replace('{{SCRIPT}}', () => script);
  fs.mkdirSync(PAGES_OUT, { recursive: true });
  fs.writeFileSync(path.join(PAGES_OUT, 'verify.html'), html);
  fs.writeFileSync(path.join(PAGES_OUT, 'verify.csp'), csp.header + '\n');
  return { html, csp };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { html } = await buildPages();
  process.stdout.write(`${path.relative(process.cwd(), path.join(PAGES_OUT, 'verify.html'))}: ${(html.length / 1024).toFixed(0)} KiB\n`);
}
