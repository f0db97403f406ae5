/**
 * GET /verify: the verification page (docs/verify-in-browser.md). It is one self-contained
 * HTML file built by scripts/build-pages.ts (dist/pages/verify.html); the proof and the
 * documents are checked in the browser and never sent here. What the service adds when it
 * serves the page: the published trust anchors (its sealing and time-stamping roots, read
 * from its configuration) in a JSON data block, the reader's language, and the page's
 * Content-Security-Policy as an HTTP header (the same as the page's <meta> one: its script and
 * style by hash, `connect-src 'none'`, no form).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import { pemToDer, certificateInfo, derToPem } from '../../crypto/index.js';
import { readCookie } from './cookies.js';
import { fromAcceptLanguage, isLang, LANG_COOKIE, pickLang, type Lang } from './i18n.js';

export interface VerifyPageDeps {
  config: Config;
  /** The development PKI's root, when the service seals with it. */
  devPkiRoot?: string;
  /** Where the built page is (default: dist/pages beside the compiled or source tree). */
  pagesDir?: string;
}

const ANCHORS_BLOCK = '<script type="application/json" id="published-anchors">[]</script>';

/** dist/pages, from dist/src/http/pages (compiled) or src/http/pages (tsx). */
function defaultPagesDir(): string {
  const here = import.meta.dirname;
  const compiled = path.resolve(here, '../../../pages');
  return fs.existsSync(path.join(compiled, 'verify.html')) ? compiled : path.resolve(here, '../../../dist/pages');
}

/**
 * The published trust anchors, PEM: the development PKI's root when the service seals with
 * it, and the self-signed certificates (the roots) of the sealing and TSA chain files.
 */
export function publishedAnchors(deps: Pick<VerifyPageDeps, 'config' | 'devPkiRoot'>): string[] {
  const pems: string[] = [];
  const seen = new Set<string>();
  const add = (der: Uint8Array) => {
    const info = certificateInfo(der);
    if (info.subject !== info.issuer || seen.has(info.sha256)) return;
    seen.add(info.sha256);
    pems.push(derToPem(der, 'CERTIFICATE'));
  };
  const files: string[] = [];
  if (deps.devPkiRoot) files.push(deps.devPkiRoot);
  for (const source of [deps.config.sealing, deps.config.tsa.key]) {
    if ((source.kind === 'pem' || source.kind === 'pkcs11') && source.chainFile) files.push(source.chainFile);
  }
  for (const file of files) for (const der of pemToDer(fs.readFileSync(file, 'utf8'), 'CERTIFICATE')) add(der);
  return pems;
}

/**
 * The page's language as the other pages choose it (?lang=, remembered; the cookie; the best
 * of Accept-Language); none of them: undefined, and the page takes the browser's own.
 */
function requestedLang(req: Request, res: Response): Lang | undefined {
  if (isLang(req.query.lang) || isLang(readCookie(req, LANG_COOKIE)) || fromAcceptLanguage(req.headers['accept-language'])) return pickLang(req, res);
  return undefined;
}

export function verifyPage(deps: VerifyPageDeps): Router {
  const router = Router();
  const dir = deps.pagesDir ?? defaultPagesDir();
  let page: { html: string; csp: string } | undefined;
  let anchorsJson: string | undefined;
  router.get('/verify', (req, res) => {
    if (!page) {
      const file = path.join(dir, 'verify.html');
      if (!fs.existsSync(file)) throw new Error(`the verification page is not built (${file}; npm run build:pages)`);
      page = { html: fs.readFileSync(file, 'utf8'), csp: fs.readFileSync(path.join(dir, 'verify.csp'), 'utf8').trim() };
    }
    // JSON in HTML: "<" escaped so that no "</script" can end the block early
    anchorsJson ??= JSON.stringify(publishedAnchors(deps)).replace(/</g, '\\u003c');
    const lang = requestedLang(req, res);
    const html = page.html
      .replace(ANCHORS_BLOCK, () => `<script type="application/json" id="published-anchors">${anchorsJson}</script>`)
      .replace('<html lang="en">', () => (lang ? `<html lang="${lang}" data-lang="${lang}">` : '<html lang="en">'));
    res.setHeader('Content-Security-Policy', page.csp);
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(html);
  });
  return router;
}
