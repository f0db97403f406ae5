/**
 * The document around every page: `<html lang>`, a skip link, a header with the service's
 * name, the language switch (links to the same page in each language) and, when someone is
 * signed in, their name and a sign-out button (a POST form with its CSRF token); the main
 * landmark; the one stylesheet. Each page gets its own Content-Security-Policy: nothing but
 * this site's stylesheet and images, forms only to this site (and to the identity provider,
 * which a sign-in form's redirect goes to), no framing, no base, no script.
 */
import type { Request, Response } from 'express';
import { PAGES_CSS_PATH } from './assets.js';
import { html, type Html } from './html.js';
import { LANGS, pickLang, type Lang } from './i18n.js';
import { common } from './i18n/common.js';
import { csrfField, pageSession } from './session.js';

export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** links of the page's own navigation, under the header */
  nav?: Html;
}

/** The Content-Security-Policy of a page; `formOrigins`: origins beyond this site a form (or its redirect) may go to. */
export function pageCsp(formOrigins: readonly string[] = []): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    ["form-action 'self'", ...formOrigins].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** The origins forms may post to (set by the pages router: the identity provider's). */
function formOrigins(res: Response): string[] {
  const o = res.locals.formOrigins as string[] | undefined;
  return o ?? [];
}

/** This page's address in another language: the same path and query, `lang` replaced. */
export function languageHref(req: Request, lang: Lang): string {
  const u = new URL(req.originalUrl, 'http://same.invalid');
  u.searchParams.set('lang', lang);
  return u.pathname + u.search;
}

export function renderPage(req: Request, res: Response, page: PageOptions): void {
  const lang = pickLang(req, res);
  const t = common[lang];
  const session = pageSession(res);
  const doc = html`<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${page.title === t.service ? page.title : `${page.title} — ${t.service}`}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${PAGES_CSS_PATH}">
</head>
<body>
<a class="skip" href="#main">${t.skip}</a>
<header class="site">
<div class="bar">
<a class="brand" href="/">${t.service}</a>
<nav aria-label="${t.languages}"><ul class="langs">${LANGS.map((l) =>
    l === lang
      ? html`<li><span aria-current="true" lang="${l}">${common[l].languageName}</span></li>`
      : html`<li><a href="${languageHref(req, l)}" lang="${l}" hreflang="${l}">${common[l].languageName}</a></li>`,
  )}</ul></nav>
${
  session
    ? html`<div class="who"><span>${t.signedInAs} <strong>${session.name}</strong></span><form method="post" action="/signout">${csrfField(res)}<button type="submit" class="secondary">${t.signOut}</button></form></div>`
    : ''
}
</div>
${page.nav ? html`<nav class="pagenav" aria-label="${page.title}">${page.nav}</nav>` : ''}
</header>
<main id="main" tabindex="-1">
${page.body}
</main>
</body>
</html>
`;
  res.setHeader('Content-Security-Policy', pageCsp(formOrigins(res)));
  res.setHeader('Content-Language', lang);
  res.setHeader('Vary', 'Cookie, Accept-Language');
  res.status(page.status ?? 200).type('html').send(doc.value);
}
