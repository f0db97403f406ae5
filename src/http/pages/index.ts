/**
 * The pages for people (docs/pages.md): the landing page, sign-in, the citizen's e-Box,
 * the sender's console and verification in the browser. HTML, server-rendered, no script (but
 * /verify's verifier, one self-contained page built by scripts/build-pages.ts),
 * in nl, fr, de and en. They are not part of the API and stay out of the OpenAPI document.
 *
 * Without sign-in configured (no OIDC_ISSUER outside development), only the landing page and
 * /verify are mounted.
 */
import express, { Router, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { OidcSignin } from '../../access/oidc.js';
import type { PageSessionService } from '../../access/pageSessions.js';
import { ServiceError } from '../../domain/errors.js';
import type { SenderService } from '../../access/senders.js';
import type { ConsoleService } from '../../registered-mail/index.js';
import type { ReceiptService } from '../../registered-mail/receipts.js';
import type { WebhookService } from '../../registered-mail/webhooks.js';
import type { RecipientService } from '../../registered-mail/recipients.js';
import { PAGES_CSS, PAGES_CSS_PATH } from './assets.js';
import { consolePages } from './console.js';
import { eboxPages } from './ebox.js';
import { pageErrorHandler } from './errors.js';
import { html } from './html.js';
import { pickLang } from './i18n.js';
import { common } from './i18n/common.js';
import { renderPage } from './layout.js';
import { isPagePath } from './paths.js';
import { loadSession, pageSession } from './session.js';
import { signinRoutes } from './signin.js';
import { verifyPage, type VerifyPageDeps } from './verify.js';

export interface PagesDeps {
  /** the page sessions and the clerks of senders */
  sessions: PageSessionService;
  /** sign-in with the identity provider; undefined when none is configured (pages that need a person are not mounted) */
  signin?: OidcSignin;
  recipients: RecipientService;
  receipts: ReceiptService;
  /** the sender's console: its queries, the senders' credentials, the webhook rules */
  console: ConsoleService;
  senders: SenderService;
  webhooks: WebhookService;
  /** what the verification page publishes: the trust anchors of this configuration */
  verify: VerifyPageDeps;
  log: Logger;
}

const YEAR_SECONDS = 365 * 24 * 3600;

export function pagesRouter(deps: PagesDeps): Router {
  const r = Router();
  const { signin, sessions, log } = deps;

  r.get(PAGES_CSS_PATH, (_req, res) => {
    res.setHeader('Cache-Control', `public, max-age=${YEAR_SECONDS}, immutable`);
    res.type('text/css').send(PAGES_CSS);
  });

  const pages = Router();
  // the API's paths pass by: their 404 stays problem+json
  pages.use((req, _res, next) => next(isPagePath(req.path) ? undefined : 'router'));
  // forms of the pages are small: a sign-out, a sign-in, a console action
  pages.use(express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 }));
  pages.use((_req, res, next) => {
    res.locals.formOrigins = signin ? signin.formOrigins() : [];
    next();
  });
  pages.use(loadSession(signin ? sessions : undefined));

  pages.get('/', (req: Request, res: Response) => {
    const t = common[pickLang(req, res)];
    const s = pageSession(res);
    const links = [
      signin && (!s || s.insz !== null) ? html`<li><a href="/ebox">${t.eboxLink}</a><p>${t.eboxDescription}</p></li>` : '',
      signin && (!s || s.clerk) ? html`<li><a href="/console">${t.consoleLink}</a><p>${t.consoleDescription}</p></li>` : '',
      html`<li><a href="/verify">${t.verifyLink}</a><p>${t.verifyDescription}</p></li>`,
    ];
    renderPage(req, res, {
      title: t.landingTitle,
      body: html`<h1>${t.landingTitle}</h1>
<p>${t.landingIntro}</p>
<ul class="cards">${links}</ul>
${signin && !s ? html`<p><a href="/signin">${t.signIn}</a></p>` : ''}`,
    });
  });

  if (signin) {
    pages.use(signinRoutes(signin, sessions));
    pages.use(eboxPages({ recipients: deps.recipients, receipts: deps.receipts }));
    pages.use(consolePages({ console: deps.console, senders: deps.senders, webhooks: deps.webhooks, receipts: deps.receipts }));
  }
  pages.use(verifyPage(deps.verify));

  // a page path no route took: a page of its own, not the API's problem+json
  pages.use((req, _res, next) => next(isPagePath(req.path) ? new ServiceError('NOT_FOUND', 'no such page') : undefined));
  pages.use((err: unknown, req: Request, res: Response, next: (e?: unknown) => void) => (isPagePath(req.path) ? pageErrorHandler(log)(err, req, res, next) : next(err)));

  r.use(pages);
  return r;
}
