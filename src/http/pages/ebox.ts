/**
 * /ebox: the citizen's registered letters (docs/pages.md, "e-Box"). The signed-in citizen is
 * the built-in e-Box's recipient of their INSZ/NISS, and the page uses the recipient API's
 * service (src/registered-mail/recipients.ts): the same mailbox, the same 404 for a letter
 * that is not theirs, the same handover when a document is downloaded whole (one
 * ContentHandover proof, which the sender then gets through its API).
 */
import { Router, type Request, type Response } from 'express';
import { LANGUAGES, type Subject } from '../../domain/EvidenceStatement.js';
import { ServiceError } from '../../domain/errors.js';
import type { DocumentRecord, MailboxRecord, RecipientRecord } from '../../domain/records.js';
import type { ReceiptService } from '../../registered-mail/receipts.js';
import type { RecipientService } from '../../registered-mail/recipients.js';
import { sendAll } from '../registered-mail/ebox.js';
import { sendProof, sendReceipt } from '../registered-mail/proofs.js';
import { html } from './html.js';
import { formatDateTime, pickLang, type Lang } from './i18n.js';
import { ebox as texts } from './i18n/ebox.js';
import { renderPage } from './layout.js';
import { requireCitizen, type Citizen } from './session.js';

export interface EboxPagesDeps {
  recipients: RecipientService;
  receipts: ReceiptService;
}

/** The subject in the person's language, else the first of nl, fr, de, en it is given in. */
export function subjectIn(subject: Subject, lang: Lang): string {
  return subject[lang] ?? LANGUAGES.map((l) => subject[l]).find((s) => s !== undefined) ?? '';
}

export function letterState(e: MailboxRecord, now = new Date()): 'new' | 'opened' | 'expired' {
  if (e.firstReadAt !== null) return 'opened';
  return Date.parse(e.expiresAt) <= now.getTime() ? 'expired' : 'new';
}

function formatSize(bytes: number, lang: Lang): string {
  const nf = new Intl.NumberFormat({ nl: 'nl-BE', fr: 'fr-BE', de: 'de-BE', en: 'en-GB' }[lang], { maximumFractionDigits: 1 });
  if (bytes < 1024) return `${nf.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${nf.format(bytes / 1024)} kB`;
  return `${nf.format(bytes / 1024 / 1024)} MB`;
}

const ID = /^[0-9a-f-]{36}$/i;

const param = (req: Request, name: string): string => String(req.params[name] ?? '');

export function eboxPages(deps: EboxPagesDeps): Router {
  const { recipients, receipts } = deps;
  const r = Router();
  r.use('/ebox', requireCitizen);

  /** The citizen's e-Box, or undefined when none is registered for their INSZ/NISS. */
  const recipientOf = async (res: Response): Promise<RecipientRecord | undefined> => recipients.citizen((res.locals.citizen as Citizen).insz);
  /** The letter's e-Box entry; another person's letter is not found (never revealed). */
  const mine = async (res: Response, id: string): Promise<RecipientRecord> => {
    const recipient = await recipientOf(res);
    if (!recipient || !ID.test(id)) throw new ServiceError('NOT_FOUND', 'no such letter in your e-Box');
    return recipient;
  };

  r.get('/ebox', async (req: Request, res: Response) => {
    const lang = pickLang(req, res);
    const t = texts[lang];
    const recipient = await recipientOf(res);
    const items = recipient ? await recipients.mailbox(recipient) : [];
    const now = new Date();
    const body = html`<h1>${t.title}</h1>
<p>${t.intro}</p>
${!recipient ? html`<p class="notice">${t.noEbox}</p>` : ''}
${
  items.length === 0
    ? recipient
      ? html`<p class="notice">${t.none}</p>`
      : ''
    : html`<table>
<caption>${t.caption}</caption>
<thead><tr><th scope="col">${t.subject}</th><th scope="col">${t.sender}</th><th scope="col">${t.received}</th><th scope="col">${t.state}</th></tr></thead>
<tbody>
${items.map((e) => {
  const state = letterState(e, now);
  return html`<tr><th scope="row"><a href="/ebox/${e.id}">${subjectIn(e.subject, lang)}</a></th><td>${e.senderName}</td><td><time datetime="${e.depositedAt}">${formatDateTime(lang, e.depositedAt)}</time></td><td><span class="state state-${state}">${t.states[state]}</span></td></tr>`;
})}
</tbody>
</table>`
}`;
    renderPage(req, res, { title: t.title, body });
  });

  r.get('/ebox/:id', async (req: Request, res: Response) => {
    const lang = pickLang(req, res);
    const t = texts[lang];
    const recipient = await mine(res, param(req, 'id'));
    const { entry, documents } = await recipients.item(recipient, param(req, 'id'));
    const proofs = await recipients.evidenceList(recipient, entry.id);
    const state = letterState(entry);
    const subject = subjectIn(entry.subject, lang);
    const base = `/ebox/${entry.id}`;
    const docRow = (d: DocumentRecord) =>
      html`<tr><th scope="row">${d.fileName}</th><td>${d.mediaType}</td><td>${formatSize(d.size, lang)}</td><td><a href="${base}/documents/${d.position}" download="${d.fileName}">${t.download}<span class="vh"> ${d.fileName}</span></a></td></tr>`;
    const body = html`<p><a href="/ebox">${t.back}</a></p>
<h1>${subject}</h1>
<dl class="facts">
<dt>${t.sender}</dt><dd>${entry.senderName}</dd>
<dt>${t.received}</dt><dd><time datetime="${entry.depositedAt}">${formatDateTime(lang, entry.depositedAt)}</time></dd>
<dt>${t.state}</dt><dd><span class="state state-${state}">${t.states[state]}</span></dd>
${entry.firstReadAt ? html`<dt>${t.openedAt}</dt><dd><time datetime="${entry.firstReadAt}">${formatDateTime(lang, entry.firstReadAt)}</time></dd>` : html`<dt>${t.expiresAt}</dt><dd><time datetime="${entry.expiresAt}">${formatDateTime(lang, entry.expiresAt)}</time></dd>`}
</dl>
<h2>${t.documents}</h2>
<p>${t.downloadNote}</p>
<table>
<caption>${t.documents}</caption>
<thead><tr><th scope="col">${t.documentName}</th><th scope="col">${t.documentType}</th><th scope="col">${t.size}</th><th scope="col">${t.download}</th></tr></thead>
<tbody>${documents.map(docRow)}</tbody>
</table>
<h2>${t.proofs}</h2>
<p>${t.proofsIntro}</p>
${
  proofs.length === 0
    ? html`<p class="notice">${t.noProofs}</p>`
    : html`<table>
<caption>${t.proofs}</caption>
<thead><tr><th scope="col">${t.proofType}</th><th scope="col">${t.proofTime}</th><th scope="col">${t.proofFiles}</th></tr></thead>
<tbody>${proofs.map(
        (p) =>
          html`<tr><th scope="row">${t.proofTypes[p.type]}</th><td><time datetime="${p.createdAt}">${formatDateTime(lang, p.createdAt)}</time></td><td><a href="${base}/proofs/${p.id}/receipt.pdf?lang=${lang}">${t.pdf}<span class="vh"> ${t.proofTypes[p.type]}</span></a> · <a href="${base}/proofs/${p.id}">${t.der}<span class="vh"> ${t.proofTypes[p.type]}</span></a></td></tr>`,
      )}</tbody>
</table>`
}`;
    renderPage(req, res, { title: `${t.letterTitle}: ${subject}`, body });
  });

  r.get('/ebox/:id/documents/:position', async (req: Request, res: Response) => {
    const recipient = await mine(res, param(req, 'id'));
    const position = Number(req.params.position);
    if (!/^\d{1,4}$/.test(param(req, 'position'))) throw new ServiceError('NOT_FOUND', 'no such document');
    const { document, stream, delivered } = await recipients.download(recipient, param(req, 'id'), position);
    res.status(200).type(document.mediaType).setHeader('Content-Length', String(document.size));
    res.setHeader('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(document.fileName)}`);
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    if (!(await sendAll(stream, res, document.size))) {
      throw new ServiceError('CLIENT_GONE', 'the client closed the connection before the document was sent');
    }
    // every byte went out: that is the handover, as for GET /v1/ebox/messages/{id}/documents/{n}
    await delivered();
  });

  r.get('/ebox/:id/proofs/:evidenceId', async (req: Request, res: Response) => {
    const recipient = await mine(res, param(req, 'id'));
    sendProof(res, await recipients.evidence(recipient, param(req, 'id'), param(req, 'evidenceId')));
  });

  r.get('/ebox/:id/proofs/:evidenceId/receipt.pdf', async (req: Request, res: Response) => {
    const recipient = await mine(res, param(req, 'id'));
    const e = await recipients.evidence(recipient, param(req, 'id'), param(req, 'evidenceId'));
    sendReceipt(res, await receipts.receipt(e, pickLang(req, res)));
  });

  return r;
}
