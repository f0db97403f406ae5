/**
 * The sender's console (/console), for a clerk the operator mapped to a sender: the
 * sender's messages with a filter (a GET form: the address of a filtered list can be kept
 * and shared) and pages of them, one message's timeline with its proofs to download (DER,
 * and the PDF receipt in the page's language), the proofs of the filtered selection as one
 * tar, the month's usage, the webhook, and the API keys (create: shown once; revoke: after a
 * confirmation). Every route is behind `requireClerk` and reads only `res.locals.clerk`'s
 * sender; an id of another sender's message or key is a 404 page, as a missing one. Every
 * POST carries the CSRF token (`checkCsrf`).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import type { SenderService } from '../../access/senders.js';
import { ServiceError } from '../../domain/errors.js';
import { MESSAGE_STATUSES } from '../../domain/status.js';
import type { CredentialRecord, MessageRecord } from '../../domain/records.js';
import { CONSOLE_QUERY_FIELDS, MAX_BUNDLE_MESSAGES, type ConsoleFilter, type ConsoleService } from '../../registered-mail/index.js';
import type { ReceiptService } from '../../registered-mail/receipts.js';
import type { WebhookService } from '../../registered-mail/webhooks.js';
import { sendProof, sendReceipt } from '../registered-mail/proofs.js';
import { html, type Html } from './html.js';
import { formatDateTime, pickLang, type Lang } from './i18n.js';
import { consoleText, type ConsoleText } from './i18n/console.js';
import { renderPage } from './layout.js';
import { checkCsrf, csrfField, requireClerk, type Clerk } from './session.js';

export interface ConsolePagesDeps {
  console: ConsoleService;
  senders: SenderService;
  webhooks: WebhookService;
  receipts: ReceiptService;
}

function clerkOf(res: Response): Clerk {
  return res.locals.clerk as Clerk;
}

function textOf(req: Request, res: Response): { lang: Lang; t: ConsoleText } {
  const lang = pickLang(req, res);
  return { lang, t: consoleText[lang] };
}

/** The console's own navigation, the current page marked. */
function nav(t: ConsoleText, current: 'messages' | 'webhook' | 'keys'): Html {
  const item = (key: 'messages' | 'webhook' | 'keys', href: string) =>
    key === current ? html`<li><a href="${href}" aria-current="page">${t.nav[key]}</a></li>` : html`<li><a href="${href}">${t.nav[key]}</a></li>`;
  return html`<ul>${item('messages', '/console')}${item('webhook', '/console/webhook')}${item('keys', '/console/keys')}</ul>`;
}

/** The console's fields of the query, as typed (strings only), for the form and the links. */
function rawQuery(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of CONSOLE_QUERY_FIELDS) {
    const v = req.query[f];
    if (typeof v === 'string' && v.trim() !== '') out[f] = v;
  }
  return out;
}

/** The month `by` months from `month` (YYYY-MM). */
function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + by, 1)).toISOString().slice(0, 7);
}

function href(path: string, query: Record<string, string>): string {
  const qs = new URLSearchParams(query).toString();
  return qs ? `${path}?${qs}` : path;
}

function subjectIn(m: MessageRecord, lang: Lang): string {
  const s = m.subject as Record<string, string>;
  return s[lang] ?? s.nl ?? s.fr ?? s.de ?? s.en ?? Object.values(s)[0] ?? '';
}

function when(lang: Lang, iso: string | null): string {
  return iso ? formatDateTime(lang, iso) : '';
}

function credentialState(c: CredentialRecord, now = Date.now()): 'active' | 'revoked' | 'expired' {
  if (c.revokedAt) return 'revoked';
  if (c.expiresAt && Date.parse(c.expiresAt) <= now) return 'expired';
  return 'active';
}

export function consolePages(deps: ConsolePagesDeps): Router {
  const r = Router();
  r.use('/console', requireClerk);
  r.use('/console', (req, res, next) => (req.method === 'POST' ? checkCsrf(req, res, next) : next()));

  // ── the messages ──────────────────────────────────────────────────────────────
  async function listPage(req: Request, res: Response, notice?: { error: string; status: number }): Promise<void> {
    const { lang, t } = textOf(req, res);
    const clerk = clerkOf(res);
    const q = rawQuery(req);
    let filter: ConsoleFilter | undefined;
    let error = notice?.error;
    let status = notice?.status ?? 200;
    try {
      filter = deps.console.parseQuery(req.query as Record<string, unknown>);
    } catch (err) {
      if (!(err instanceof ServiceError) || err.code !== 'QUERY_INVALID') throw err;
      error = `${t.filterInvalid} ${err.message}`;
      status = 400;
    }
    const page = filter ? await deps.console.messages(clerk.senderId, filter) : { items: [] as MessageRecord[], cursor: undefined };
    let usage;
    try {
      usage = await deps.console.usage(clerk.senderId, typeof req.query.month === 'string' ? req.query.month : undefined);
    } catch (err) {
      if (!(err instanceof ServiceError) || err.code !== 'QUERY_INVALID') throw err;
      error = `${t.filterInvalid} ${err.message}`;
      status = 400;
      usage = await deps.console.usage(clerk.senderId);
    }
    const [previousMonth, nextMonth] = [shiftMonth(usage.month, -1), shiftMonth(usage.month, 1)];
    const { cursor: _c, ...selection } = q;
    const { limit: _l, ...bundleQuery } = selection;
    const option = (value: string, label: string, selected: string | undefined) =>
      value === (selected ?? '') ? html`<option value="${value}" selected>${label}</option>` : html`<option value="${value}">${label}</option>`;
    const body = html`<h1>${t.title}</h1>
<p>${t.sender}: <strong>${clerk.senderName}</strong></p>
${error ? html`<p class="notice error" role="alert" id="filter-error">${error}</p>` : ''}
<form method="get" action="/console" class="filters">
<fieldset>
<legend>${t.filters}</legend>
<p><label for="f-status">${t.status}</label>
<select id="f-status" name="status">${option('', t.anyStatus, q.status)}${MESSAGE_STATUSES.map((s) => option(s, t.statuses[s], q.status))}</select></p>
<p><label for="f-from">${t.from}</label>
<input id="f-from" name="from" type="date" value="${q.from ?? ''}"></p>
<p><label for="f-to">${t.to}</label>
<input id="f-to" name="to" type="date" value="${q.to ?? ''}"></p>
<p><label for="f-reference">${t.reference}</label>
<input id="f-reference" name="reference" type="text" maxlength="200" value="${q.reference ?? ''}"></p>
<p><label for="f-rtype">${t.recipientType}</label>
<select id="f-rtype" name="recipientType">${option('', t.anyRecipient, q.recipientType)}${option('citizen', t.citizen, q.recipientType)}${option('enterprise', t.enterprise, q.recipientType)}</select></p>
<p><label for="f-rid">${t.recipientId}</label>
<input id="f-rid" name="recipientId" type="text" maxlength="20" inputmode="numeric" value="${q.recipientId ?? ''}"></p>
<p><button type="submit">${t.apply}</button> <a href="/console">${t.reset}</a></p>
</fieldset>
</form>
<h2 id="messages-heading">${t.messagesCaption}</h2>
${
  page.items.length === 0
    ? html`<p>${t.noMessages}</p>`
    : html`<table aria-labelledby="messages-heading">
<thead><tr><th scope="col">${t.submitted}</th><th scope="col">${t.reference}</th><th scope="col">${t.recipient}</th><th scope="col">${t.subject}</th><th scope="col">${t.status}</th></tr></thead>
<tbody>${page.items.map(
        (m) => html`<tr data-message-id="${m.id}">
<th scope="row"><a href="/console/messages/${m.id}">${when(lang, m.submittedAt)}</a></th>
<td>${m.senderReference ?? ''}</td>
<td>${m.recipientType === 'citizen' ? t.citizen : t.enterprise}: ${m.recipientId}</td>
<td>${subjectIn(m, lang)}</td>
<td>${t.statuses[m.status]}</td>
</tr>`,
      )}</tbody>
</table>`
}
<p class="paging">${q.cursor ? html`<a href="${href('/console', selection)}">${t.firstPage}</a> ` : ''}${page.cursor ? html`<a href="${href('/console', { ...selection, cursor: page.cursor })}" rel="next">${t.nextPage}</a>` : ''}</p>
${filter && page.items.length > 0 ? html`<p><a href="${href('/console/bundle', bundleQuery)}" download>${t.bundle}</a><br><span class="muted">${t.bundleHint(MAX_BUNDLE_MESSAGES)}</span></p>` : ''}
<h2 id="usage-heading">${t.usage} (${usage.month})</h2>
<p class="paging"><a href="${href('/console', { ...selection, month: previousMonth })}">${t.usagePrevious}</a>${
      nextMonth <= new Date().toISOString().slice(0, 7) ? html` <a href="${href('/console', { ...selection, month: nextMonth })}">${t.usageNext}</a>` : ''
    }</p>
<p>${t.usageMessages}: <strong>${usage.messages}</strong></p>
${
  usage.notifications.length === 0
    ? html`<p>${t.noNotifications}</p>`
    : html`<table aria-labelledby="usage-heading">
<thead><tr><th scope="col">${t.channel}</th><th scope="col">${t.notifications}</th><th scope="col">${t.units}</th></tr></thead>
<tbody>${usage.notifications.map((u) => html`<tr><th scope="row">${u.channel}</th><td>${u.messages}</td><td>${u.units}</td></tr>`)}</tbody>
</table>`
}`;
    renderPage(req, res, { title: t.title, body, status, nav: nav(t, 'messages') });
  }

  r.get('/console', async (req, res) => listPage(req, res));

  r.get('/console/bundle', async (req, res) => {
    const { t } = textOf(req, res);
    const filter = deps.console.parseQuery(req.query as Record<string, unknown>);
    let bundle;
    try {
      bundle = await deps.console.bundle(clerkOf(res).senderId, filter);
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'SELECTION_TOO_LARGE') return listPage(req, res, { error: t.bundleHint(MAX_BUNDLE_MESSAGES), status: 422 });
      throw err;
    }
    res.status(200).type('application/x-tar').setHeader('Content-Disposition', `attachment; filename="${bundle.fileName}"`);
    try {
      await pipeline(Readable.from(bundle.stream), res);
    } catch (err) {
      // the browser went away (a cancelled download): nobody is left to answer
      if ((err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      throw err;
    }
  });

  r.get('/console/messages/:id', async (req, res) => {
    const { lang, t } = textOf(req, res);
    const tl = await deps.console.timeline(clerkOf(res).senderId, req.params.id!);
    const m = tl.message;
    const base = `/console/messages/${m.id}`;
    const body = html`<h1>${t.messageTitle}: ${subjectIn(m, lang)}</h1>
<p><a href="/console">${t.back}</a></p>
<h2>${t.details}</h2>
<dl class="facts">
<dt>${t.messageId}</dt><dd><code>${m.id}</code></dd>
<dt>${t.reference}</dt><dd>${m.senderReference ?? ''}</dd>
<dt>${t.recipient}</dt><dd>${m.recipientType === 'citizen' ? t.citizen : t.enterprise}: ${m.recipientId}</dd>
<dt>${t.submitted}</dt><dd>${when(lang, m.submittedAt)}</dd>
<dt>${t.status}</dt><dd>${t.statuses[m.status]}</dd>
${m.expiresAt ? html`<dt>${t.expires}</dt><dd>${when(lang, m.expiresAt)}</dd>` : ''}
</dl>
<h2 id="documents-heading">${t.documents}</h2>
<table aria-labelledby="documents-heading">
<thead><tr><th scope="col">${t.fileName}</th><th scope="col">${t.size}</th><th scope="col">SHA-256</th></tr></thead>
<tbody>${tl.documents.map((d) => html`<tr><th scope="row">${d.fileName}</th><td>${d.size}</td><td><code class="digest">${d.sha256}</code></td></tr>`)}</tbody>
</table>
<h2 id="proofs-heading">${t.proofs}</h2>
${
  tl.proofs.length === 0
    ? html`<p>${t.noneYet}</p>`
    : html`<table aria-labelledby="proofs-heading">
<thead><tr><th scope="col">${t.proofType}</th><th scope="col">${t.time}</th><th scope="col">${t.download}</th></tr></thead>
<tbody>${tl.proofs.map(
        (p) => html`<tr data-evidence-id="${p.id}"><th scope="row">${p.type}</th><td>${when(lang, p.createdAt)}</td>
<td><a href="${base}/proofs/${p.id}" download>${t.downloadDer}<span class="vh"> ${p.type}</span></a> · <a href="${base}/proofs/${p.id}/receipt.pdf" download>${t.downloadPdf}<span class="vh"> ${p.type}</span></a></td></tr>`,
      )}</tbody>
</table>`
}
<h2 id="events-heading">${t.events}</h2>
<table aria-labelledby="events-heading">
<thead><tr><th scope="col">#</th><th scope="col">${t.event}</th><th scope="col">${t.time}</th></tr></thead>
<tbody>${tl.events.map((e) => html`<tr><td>${e.seq}</td><th scope="row">${e.type}</th><td>${when(lang, e.at)}</td></tr>`)}</tbody>
</table>
<h2 id="notifications-heading">${t.notifications}</h2>
${
  tl.notifications.length === 0
    ? html`<p>${t.noneYet}</p>`
    : html`<table aria-labelledby="notifications-heading">
<thead><tr><th scope="col">${t.channel}</th><th scope="col">${t.status}</th><th scope="col">${t.time}</th></tr></thead>
<tbody>${tl.notifications.map((n) =>
        n.attempts.length === 0
          ? html`<tr><th scope="row">—</th><td>${n.status}</td><td>${when(lang, n.createdAt)}</td></tr>`
          : n.attempts.map((a) => html`<tr><th scope="row">${a.channel}</th><td>${a.status}</td><td>${when(lang, a.deliveredAt ?? a.sentAt ?? n.createdAt)}</td></tr>`),
      )}</tbody>
</table>`
}
<h2 id="webhooks-heading">${t.webhookDeliveries}</h2>
${
  tl.webhooks.length === 0
    ? html`<p>${t.noneYet}</p>`
    : html`<table aria-labelledby="webhooks-heading">
<thead><tr><th scope="col">${t.reportedStatus}</th><th scope="col">${t.delivery}</th><th scope="col">${t.attempts}</th><th scope="col">${t.lastError}</th><th scope="col">${t.nextAttempt}</th></tr></thead>
<tbody>${tl.webhooks.map((w) => html`<tr><th scope="row">${w.status}</th><td>${w.delivery}</td><td>${w.attempts}</td><td>${w.lastError ?? ''}</td><td>${when(lang, w.nextAttemptAt)}</td></tr>`)}</tbody>
</table>`
}`;
    renderPage(req, res, { title: `${t.messageTitle} ${m.senderReference ?? m.id}`, body, nav: nav(t, 'messages') });
  });

  r.get('/console/messages/:id/proofs/:evidenceId', async (req, res) => {
    sendProof(res, await deps.console.proof(clerkOf(res).senderId, req.params.id!, req.params.evidenceId!));
  });

  r.get('/console/messages/:id/proofs/:evidenceId/receipt.pdf', async (req, res) => {
    const e = await deps.console.proof(clerkOf(res).senderId, req.params.id!, req.params.evidenceId!);
    sendReceipt(res, await deps.receipts.receipt(e, pickLang(req, res)));
  });

  // ── the webhook ───────────────────────────────────────────────────────────────
  async function webhookPage(req: Request, res: Response, state: { status?: number; error?: string; url?: string; secret?: string; notice?: string } = {}): Promise<void> {
    const { t } = textOf(req, res);
    const settings = await deps.console.settings(clerkOf(res).senderId);
    const value = state.url ?? settings.webhookUrl ?? '';
    const body = html`<h1>${t.webhookTitle}</h1>
<p>${t.webhookIntro}</p>
${state.notice ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
${
  state.secret
    ? html`<div class="notice" role="status"><p><strong>${t.webhookSecretOnce}</strong></p>
<p><label for="webhook-secret">${t.webhookSecret}</label>
<input id="webhook-secret" type="text" readonly value="${state.secret}" size="60"></p></div>`
    : ''
}
<h2>${t.webhookCurrent}</h2>
<p>${settings.webhookUrl ? html`<code id="webhook-current">${settings.webhookUrl}</code>` : t.webhookNone}</p>
<form method="post" action="/console/webhook">
${csrfField(res)}
${state.error ? html`<p class="notice error" role="alert" id="webhook-error">${state.error}</p>` : ''}
<p><label for="webhook-url">${t.webhookUrl}</label>
<input id="webhook-url" name="url" type="url" size="60" maxlength="2000" required value="${value}"${state.error ? html` aria-invalid="true" aria-describedby="webhook-error"` : ''}></p>
<p><button type="submit">${t.webhookSave}</button></p>
</form>
${
  settings.webhookUrl
    ? html`<p><a href="/console/webhook/remove">${t.webhookRemove}</a></p>`
    : ''
}`;
    renderPage(req, res, { title: t.webhookTitle, body, status: state.status, nav: nav(t, 'webhook') });
  }

  r.get('/console/webhook', async (req, res) => webhookPage(req, res));

  r.post('/console/webhook', async (req, res) => {
    const { t } = textOf(req, res);
    const url: unknown = (req.body as Record<string, unknown>).url;
    if (typeof url !== 'string' || url.trim() === '') return webhookPage(req, res, { status: 422, error: t.webhookInvalid, url: '' });
    try {
      const out = await deps.webhooks.configure(clerkOf(res).senderId, url.trim());
      return webhookPage(req, res, { notice: t.webhookSaved, secret: out.secret ?? undefined });
    } catch (err) {
      if (err instanceof ServiceError && (err.code === 'WEBHOOK_INVALID' || err.code === 'WEBHOOK_TARGET_FORBIDDEN')) {
        return webhookPage(req, res, { status: 422, error: err.code === 'WEBHOOK_INVALID' ? t.webhookInvalid : t.webhookForbidden, url });
      }
      throw err;
    }
  });

  // removing asks to confirm first, as revoking a key does
  r.get('/console/webhook/remove', async (req, res) => {
    const { t } = textOf(req, res);
    const { webhookUrl } = await deps.console.settings(clerkOf(res).senderId);
    if (!webhookUrl) return res.redirect(303, '/console/webhook');
    const [before, after] = t.webhookRemoveText.split('{url}');
    const body = html`<h1>${t.webhookRemove}</h1>
<p>${before}<code>${webhookUrl}</code>${after}</p>
<form method="post" action="/console/webhook/remove">
${csrfField(res)}
<p><button type="submit">${t.webhookRemoveConfirm}</button> <a href="/console/webhook">${t.cancel}</a></p>
</form>`;
    renderPage(req, res, { title: t.webhookRemove, body, nav: nav(t, 'webhook') });
  });

  r.post('/console/webhook/remove', async (req, res) => {
    const { t } = textOf(req, res);
    await deps.webhooks.configure(clerkOf(res).senderId, null);
    return webhookPage(req, res, { notice: t.webhookRemoved });
  });

  // ── the API keys ──────────────────────────────────────────────────────────────
  async function keysPage(req: Request, res: Response, state: { status?: number; error?: string; name?: string; notice?: string } = {}): Promise<void> {
    const { lang, t } = textOf(req, res);
    const credentials = await deps.senders.credentials(clerkOf(res).senderId);
    const body = html`<h1>${t.keysTitle}</h1>
<p>${t.keysIntro}</p>
${state.notice ? html`<p class="notice" role="status">${state.notice}</p>` : ''}
<table>
<caption>${t.keysCaption}</caption>
<thead><tr><th scope="col">${t.keyName}</th><th scope="col">${t.keyKind}</th><th scope="col">${t.keyHint}</th><th scope="col">${t.created}</th><th scope="col">${t.lastUsed}</th><th scope="col">${t.state}</th><th scope="col">${t.actions}</th></tr></thead>
<tbody>${credentials.map((c) => {
      const state = credentialState(c);
      return html`<tr data-credential-id="${c.id}"><th scope="row">${c.name}</th><td>${t.kinds[c.kind]}</td><td><code>${c.hint ?? ''}</code></td><td>${when(lang, c.createdAt)}</td><td>${c.lastUsedAt ? when(lang, c.lastUsedAt) : t.never}</td><td>${t.states[state]}</td>
<td>${state === 'active' ? html`<a href="/console/keys/${c.id}/revoke">${t.revoke}<span class="vh"> ${c.name}</span></a>` : ''}</td></tr>`;
    })}</tbody>
</table>
<form method="post" action="/console/keys">
${csrfField(res)}
<fieldset>
<legend>${t.newKey}</legend>
${state.error ? html`<p class="notice error" role="alert" id="key-error">${state.error}</p>` : ''}
<p><label for="key-name">${t.keyName}</label>
<input id="key-name" name="name" type="text" maxlength="100" required value="${state.name ?? ''}" aria-describedby="key-name-hint${state.error ? ' key-error' : ''}"${state.error ? html` aria-invalid="true"` : ''}>
<span class="muted" id="key-name-hint">${t.keyNameHint}</span></p>
<p><button type="submit">${t.create}</button></p>
</fieldset>
</form>`;
    renderPage(req, res, { title: t.keysTitle, body, status: state.status, nav: nav(t, 'keys') });
  }

  r.get('/console/keys', async (req, res) => {
    const { t } = textOf(req, res);
    return keysPage(req, res, req.query.done === 'revoked' ? { notice: t.keyRevoked } : {});
  });

  r.post('/console/keys', async (req, res) => {
    const { t } = textOf(req, res);
    const name: unknown = (req.body as Record<string, unknown>).name;
    let created;
    try {
      created = await deps.senders.issueApiKey(clerkOf(res).senderId, typeof name === 'string' ? name : '');
    } catch (err) {
      if (err instanceof ServiceError && err.code === 'CREDENTIAL_INVALID') return keysPage(req, res, { status: 422, error: t.keyInvalid, name: typeof name === 'string' ? name : '' });
      throw err;
    }
    const body = html`<h1>${t.keyCreatedTitle}: ${created.credential.name}</h1>
<div class="notice" role="status"><p><strong>${t.keyOnce}</strong></p>
<p><label for="new-key">${t.keyLabel}</label>
<input id="new-key" type="text" readonly size="60" value="${created.apiKey}"></p></div>
<p><a href="/console/keys">${t.backToKeys}</a></p>`;
    renderPage(req, res, { title: t.keyCreatedTitle, body, status: 201, nav: nav(t, 'keys') });
  });

  r.get('/console/keys/:id/revoke', async (req, res) => {
    const { lang, t } = textOf(req, res);
    const c = (await deps.senders.credentials(clerkOf(res).senderId)).find((k) => k.id === req.params.id);
    if (!c) throw new ServiceError('NOT_FOUND', 'no such credential');
    const body = html`<h1>${t.revokeTitle}: ${c.name}</h1>
<dl class="facts"><dt>${t.keyKind}</dt><dd>${t.kinds[c.kind]}</dd><dt>${t.keyHint}</dt><dd><code>${c.hint ?? ''}</code></dd><dt>${t.created}</dt><dd>${when(lang, c.createdAt)}</dd></dl>
<p>${t.revokeText}</p>
<form method="post" action="/console/keys/${c.id}/revoke">
${csrfField(res)}
<p><button type="submit">${t.revokeConfirm}</button> <a href="/console/keys">${t.cancel}</a></p>
</form>`;
    renderPage(req, res, { title: t.revokeTitle, body, nav: nav(t, 'keys') });
  });

  r.post('/console/keys/:id/revoke', async (req, res) => {
    // another sender's credential is not found (the update is scoped to the clerk's sender)
    if (!/^[0-9a-f-]{36}$/i.test(req.params.id!)) throw new ServiceError('NOT_FOUND', 'no such credential');
    await deps.senders.revoke(clerkOf(res).senderId, req.params.id!);
    res.redirect(303, '/console/keys?done=revoked');
  });

  return r;
}
