/**
 * The verification page's script: the proof, its documents and the trust anchors are read
 * from the file inputs (or a drop on the drop zone) and checked here, with the same verifier
 * as the auditor's CLI (src/audit/verify-core.ts) over the browser's WebCrypto. Nothing is sent
 * anywhere: the page's Content-Security-Policy has `connect-src 'none'` and no form.
 */
import { AuditError, MAX_PROOF_BYTES, tooLargeDetail, trustAnchorsFromBytes, unreadableProofReport, verifyProof, type CertificateInfo, type DocumentDigest, type ProofReport } from './verifier.js';
import { browserLang, LANGS, TEXT, type Lang, type PageText } from './i18n.js';

interface Anchor {
  der: Uint8Array;
  info: CertificateInfo;
}

interface Outcome {
  report?: ProofReport;
  anchors: { own: boolean; list: Anchor[] };
  error?: { title: keyof PageText; message: string };
  documents: number;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let lang: Lang = (LANGS as readonly string[]).includes(document.documentElement.dataset.lang ?? '') ? (document.documentElement.dataset.lang as Lang) : browserLang(navigator.languages ?? [navigator.language]);
let last: Outcome | undefined;
let run = 0;

/** The anchors the page was served with (a JSON data block; CSP does not execute it). */
function publishedAnchors(): Anchor[] {
  const block = document.getElementById('published-anchors');
  let pems: unknown;
  try {
    pems = JSON.parse(block?.textContent ?? '[]');
  } catch {
    return [];
  }
  if (!Array.isArray(pems)) return [];
  // an anchor the page cannot read is left out (and so shown nowhere), never trusted
  return pems.flatMap((pem, i) => {
    try {
      return typeof pem === 'string' ? trustAnchorsFromBytes(`published #${i + 1}`, new TextEncoder().encode(pem)) : [];
    } catch {
      return [];
    }
  });
}

const published = publishedAnchors();

async function bytesOf(file: File): Promise<Uint8Array> {
  return new Uint8Array(await file.arrayBuffer());
}

async function sha256OfFile(file: File): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function verifyNow(): Promise<void> {
  const mine = ++run;
  const proofFile = $<HTMLInputElement>('proof').files?.[0];
  if (!proofFile) {
    last = undefined;
    $('result').setAttribute('aria-busy', 'false');
    render();
    return;
  }
  $('result').setAttribute('aria-busy', 'true');
  $('result').replaceChildren(el('p', {}, TEXT[lang].verifying));
  const outcome: Outcome = { anchors: { own: false, list: published }, documents: 0 };
  try {
    const own: Anchor[] = [];
    for (const f of Array.from($<HTMLInputElement>('anchors').files ?? [])) own.push(...trustAnchorsFromBytes(f.name, await bytesOf(f)));
    if (own.length > 0) outcome.anchors = { own: true, list: own };
    const docs = Array.from($<HTMLInputElement>('documents').files ?? []);
    outcome.documents = docs.length;
    // as the CLI: a file too large to be a proof is not read (FORMAT_FAILURE), whatever its size
    if (proofFile.size > MAX_PROOF_BYTES) {
      outcome.report = unreadableProofReport(proofFile.name, tooLargeDetail(proofFile.size));
    } else {
      outcome.report = await verifyProof(
        await bytesOf(proofFile),
        {
          display: proofFile.name,
          documents: async () => {
            const out: DocumentDigest[] = [];
            for (const d of docs) out.push({ fileName: d.name, sha256: await sha256OfFile(d) });
            return out;
          },
        },
        { trustAnchors: outcome.anchors.list.map((a) => a.der), crypto: globalThis.crypto },
      );
    }
  } catch (err) {
    outcome.error = err instanceof AuditError ? { title: 'anchorsInvalid', message: err.message } : { title: 'error', message: err instanceof Error ? err.message : String(err) };
  }
  if (mine !== run) return; // a newer choice of files is being verified
  last = outcome;
  $('result').setAttribute('aria-busy', 'false');
  render();
}

type Attrs = Record<string, string>;
function el(tag: string, attrs: Attrs = {}, ...children: Array<Node | string>): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

function anchorsTable(t: PageText, anchors: Anchor[], caption: string): HTMLElement {
  return el(
    'table',
    {},
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t.subject), el('th', { scope: 'col' }, t.fingerprint))),
    el('tbody', {}, ...anchors.map((a) => el('tr', {}, el('td', {}, a.info.subject), el('td', { class: 'mono' }, a.info.sha256)))),
  );
}

function renderReport(t: PageText, o: Outcome): HTMLElement[] {
  if (o.error || !o.report) return [el('p', { class: 'verdict TOTAL_FAILED' }, t[o.error?.title ?? 'error'] as string), el('p', { class: 'detail' }, o.error?.message ?? '')];
  const r = o.report;
  const out: HTMLElement[] = [];
  out.push(el('p', { class: `verdict ${r.indication}`, id: 'indication', 'data-indication': r.indication }, t.indication[r.indication]));
  if (r.subIndication) out.push(el('p', {}, `${t.subIndication}: `, el('strong', { id: 'sub-indication' }, r.subIndication)));
  const facts: Array<[string, string | undefined]> = [
    [t.file, `${r.file}${r.sha256 ? ` (SHA-256 ${r.sha256})` : ''}`],
    [t.evidenceType, r.statement?.type],
    [t.messageId, r.statement?.messageId],
    [t.sealedBy, r.signerSubject],
    [t.signingTime, r.signingTime],
    [t.genTime, r.genTime],
    [t.tsa, r.tsaSubject],
    [t.documentsListed, r.statement?.documents?.map((d) => `${d.fileName} (SHA-256 ${d.sha256})`).join('; ')],
  ];
  out.push(el('h3', {}, t.summaryHeading), el('dl', {}, ...facts.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v!)])));
  if (o.documents === 0) out.push(el('p', {}, t.noDocumentsGiven));
  out.push(
    el('h3', {}, t.checksHeading),
    el(
      'table',
      { id: 'checks' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, t.check), el('th', { scope: 'col' }, t.outcome), el('th', { scope: 'col' }, t.detail))),
      el(
        'tbody',
        {},
        ...r.checks.map((c) =>
          el(
            'tr',
            { 'data-check': c.name, 'data-passed': String(c.passed) },
            el('th', { scope: 'row' }, `${t.checks[c.name] ?? c.name} `, el('span', { class: 'mono' }, `(${c.name})`)),
            el('td', { class: c.passed ? 'passed' : 'failed' }, c.passed ? t.passed : `${t.failed}${c.subIndication ? `: ${c.subIndication}` : ''}`),
            el('td', { class: 'detail' }, c.detail),
          ),
        ),
      ),
    ),
  );
  out.push(el('h3', {}, t.anchorsUsedHeading), el('p', { id: 'anchors-used' }, o.anchors.own ? t.anchorsUsedOwn : t.anchorsUsedPublished), anchorsTable(t, o.anchors.list, t.anchorsUsedHeading));
  return out;
}

function render(): void {
  const t = TEXT[lang];
  document.documentElement.lang = lang;
  document.title = t.title;
  for (const node of Array.from(document.querySelectorAll<HTMLElement>('[data-i18n]'))) {
    const key = node.dataset.i18n as keyof PageText;
    const value = t[key];
    if (typeof value === 'string') node.textContent = value;
  }
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-lang]'))) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  $('published').replaceChildren(published.length ? anchorsTable(t, published, t.publishedHeading) : el('p', {}, t.noPublished));
  $('result').replaceChildren(...(last ? renderReport(t, last) : [el('p', {}, t.noProof)]));
}

/** Sorts dropped files into the inputs: .p7s the proof, certificates the anchors, the rest documents. */
function takeDrop(files: File[]): void {
  const proof = files.filter((f) => /\.(p7s|p7m)$/i.test(f.name));
  const anchors = files.filter((f) => /\.(pem|crt|cer)$/i.test(f.name));
  const docs = files.filter((f) => !proof.includes(f) && !anchors.includes(f));
  const set = (id: string, list: File[]) => {
    if (list.length === 0) return;
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(f);
    $<HTMLInputElement>(id).files = dt.files;
  };
  set('proof', proof.slice(0, 1));
  set('documents', docs);
  set('anchors', anchors);
  void verifyNow();
}

function start(): void {
  for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('button[data-lang]'))) {
    b.addEventListener('click', () => {
      lang = b.dataset.lang as Lang;
      render();
    });
  }
  for (const id of ['proof', 'documents', 'anchors']) $(id).addEventListener('change', () => void verifyNow());
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    takeDrop(Array.from(e.dataTransfer?.files ?? []));
  });
  render();
}

start();
