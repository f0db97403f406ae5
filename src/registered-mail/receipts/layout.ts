/**
 * The receipt's pages (pdf-lib): A4, DejaVu Sans embedded and subset (text selectable, with
 * its ToUnicode map), the proof attached as a file. Everything on the page comes from the
 * proof's own statement, so the same proof and language give the same bytes (the PDF's
 * creation and modification dates are left out; the signing time is the signature's).
 *
 * Top to bottom: the service's heading, the event in words and what it certifies; the
 * parties (issuer, sender and its reference, recipient with a masked national number),
 * subject, message and times (Europe/Brussels and UTC); reasons (failures); each document's
 * name, size and SHA-256; the evidence (identifier, proof file and its SHA-256, its
 * time-stamp, the previous proof's digest); how to verify. Pages break where the content
 * needs; each page carries "page n of m" and the evidence identifier.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import fontkit from '@pdf-lib/fontkit';
import { AFRelationship, PDFDocument, rgb, type PDFFont, type PDFPage, type RGB } from 'pdf-lib';
import { LANGUAGES, evidenceTypeOf, type EvidenceStatement, type EvidenceType, type Language } from '../../domain/EvidenceStatement.js';
import { formattedKbo, maskedInsz } from '../../domain/identifiers.js';
import { RECEIPT_TEXTS, type ReceiptTexts } from './texts.js';

export interface ReceiptContent {
  statement: EvidenceStatement;
  /** The proof's DER: attached to the PDF. */
  proof: Uint8Array;
  proofSha256: string;
  /** genTime of the proof's signature time-stamp. */
  timeStampedAt: Date | null;
  language: Language;
}

interface Fonts {
  regular: PDFFont;
  bold: PDFFont;
  mono: PDFFont;
}

const require = createRequire(import.meta.url);
let fontFiles: Promise<{ regular: Buffer; bold: Buffer; mono: Buffer }> | undefined;

/** DejaVu Sans (Bitstream Vera licence, from the dejavu-fonts-ttf package), read once. */
function loadFontFiles() {
  const file = (name: string) => readFile(require.resolve(`dejavu-fonts-ttf/ttf/${name}`));
  return (fontFiles ??= Promise.all([file('DejaVuSans.ttf'), file('DejaVuSans-Bold.ttf'), file('DejaVuSansMono.ttf')]).then(([regular, bold, mono]) => ({ regular, bold, mono })));
}

/**
 * fontkit for pdf-lib, parsing each font file once per process: pdf-lib would parse it again
 * for every document, and the parsed font's glyph and layout caches are most of the time a
 * page takes (one font: about 66 ms a document parsed each time, 12 ms parsed once). Each
 * document still makes its own subset; the parsed font is only read.
 */
const parsedFonts = new WeakMap<Uint8Array, ReturnType<typeof fontkit.create>>();
const cachingFontkit: typeof fontkit = {
  ...fontkit,
  create(data: Uint8Array, postscriptName?: string) {
    let font = postscriptName === undefined ? parsedFonts.get(data) : undefined;
    if (!font) {
      font = fontkit.create(data, postscriptName);
      if (postscriptName === undefined) parsedFonts.set(data, font);
    }
    return font;
  },
};

const PAGE = { width: 595.28, height: 841.89 };
const MARGIN = { left: 56, right: 56, top: 56, bottom: 64 };
const CONTENT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const LABEL_WIDTH = 150;
const INK = rgb(0.1, 0.1, 0.12);
const MUTED = rgb(0.3, 0.32, 0.36); // 7.8:1 on white
const ACCENT = rgb(0.05, 0.22, 0.45);
const RULE = rgb(0.75, 0.77, 0.8);

/** Names the fonts get in the PDF: fixed, so that the output is the same from run to run. */
const FONT_NAMES = { regular: 'RMRCPA+DejaVuSans', bold: 'RMRCPB+DejaVuSans-Bold', mono: 'RMRCPC+DejaVuSansMono' };

export function proofFileName(statement: EvidenceStatement): string {
  return `${evidenceTypeOf(statement.ERDSEventId) ?? 'Evidence'}-${statement.EvidenceIdentifier}.p7s`;
}

/** The receipt as an unsigned PDF document, ready for a signature placeholder. */
export async function buildReceipt(content: ReceiptContent): Promise<PDFDocument> {
  const t = RECEIPT_TEXTS[content.language];
  const s = content.statement;
  const type = evidenceTypeOf(s.ERDSEventId) as EvidenceType;
  const words = t.events[type];
  const files = await loadFontFiles();
  const doc = await PDFDocument.create({ updateMetadata: false });
  doc.registerFontkit(cachingFontkit);
  const fonts: Fonts = {
    regular: await doc.embedFont(files.regular, { subset: true, customName: FONT_NAMES.regular }),
    bold: await doc.embedFont(files.bold, { subset: true, customName: FONT_NAMES.bold }),
    mono: await doc.embedFont(files.mono, { subset: true, customName: FONT_NAMES.mono }),
  };

  const fileName = proofFileName(s);
  const title = `${words.title} — ${s.MessageIdentifier}`;
  doc.setTitle(title, { showInWindowTitleBar: true });
  doc.setAuthor(s.EvidenceIssuerDetails.Name);
  doc.setSubject(words.title);
  doc.setLanguage(t.locale);
  doc.setProducer('registered-mail');
  doc.setCreator('registered-mail receipts');
  await doc.attach(content.proof, fileName, {
    mimeType: 'application/pkcs7-mime',
    description: t.attachmentDescription,
    afRelationship: AFRelationship.Source,
  });

  const w = new Writer(doc, fonts);
  w.small(t.heading, MUTED);
  w.gap(14);
  w.paragraph(words.title, { font: fonts.bold, size: 20, color: ACCENT });
  w.gap(4);
  w.paragraph(words.meaning, { size: 10.5 });
  w.gap(10);

  w.section(t.parties);
  w.field(t.issuer, s.EvidenceIssuerDetails.Name);
  w.field(t.policy, s.EvidenceIssuerPolicyID.join(', '));
  w.field(t.sender, `${s.SenderDetails.Name} (${s.SenderDetails.Identifier})`);
  if (s.SenderDetails.Reference) w.field(t.senderReference, s.SenderDetails.Reference);
  const r = s.RecipientDetails;
  w.field(t.recipient, r.Type === 'citizen' ? `${maskedInsz(r.Identifier)} — ${t.citizen}` : `${formattedKbo(r.Identifier)} — ${t.enterprise}`);

  w.section(t.message);
  const subject = s.MessageSubject[content.language];
  if (subject !== undefined) w.field(t.subject, subject);
  else {
    const given = LANGUAGES.filter((l) => s.MessageSubject[l] !== undefined).map((l) => `${s.MessageSubject[l]} (${l})`);
    if (given.length > 0) w.field(t.subjectOtherLanguages, given.join('\n'));
  }
  w.field(t.message, s.MessageIdentifier, { mono: true });
  w.field(t.submitted, timeLines(new Date(s.SubmissionTime), t));
  w.field(t.eventTime, timeLines(new Date(s.EventTime), t), { bold: true });
  if (s.EventReasons?.length) w.field(t.reasons, s.EventReasons.map((x) => (x.Details ? `${reasonName(x.Code)}: ${x.Details}` : reasonName(x.Code))).join('\n'));
  if (s.NotificationDetails) {
    const nd = s.NotificationDetails;
    w.section(t.notification);
    w.field(t.notificationId, nd.NotificationIdentifier, { mono: true });
    for (const d of nd.Deliveries) {
      w.field(t.channels[d.Channel as keyof typeof t.channels] ?? d.Channel, timeLines(new Date(d.SentTime), t));
      w.field(t.addressDigest, d.AddressDigest.DigestValue, { mono: true });
    }
  }

  w.section(t.documents);
  if (s.Documents.length === 0) w.paragraph(t.noDocuments);
  const number = new Intl.NumberFormat(t.locale);
  for (const d of s.Documents) {
    w.keepTogether(52);
    w.paragraph(d.FileName, { font: fonts.bold, size: 10 });
    w.paragraph(`${number.format(d.Size).replace(/\u202f/g, '\u00a0')} ${t.bytes} · ${d.MediaType}${d.IsMainContent ? ` · ${t.mainDocument}` : ''}`, { size: 9, color: MUTED });
    w.paragraph(`SHA-256 ${d.DigestValue}`, { font: fonts.mono, size: 8.5 });
    w.gap(5);
  }

  w.section(t.evidence);
  w.field(t.evidenceId, s.EvidenceIdentifier, { mono: true });
  w.field(t.proofFile, fileName, { mono: true });
  w.field(t.proofDigest, content.proofSha256, { mono: true });
  if (content.timeStampedAt) w.field(t.timeStamp, timeLines(content.timeStampedAt, t));
  w.field(t.previousProof, s.PreviousEvidenceDigest ? s.PreviousEvidenceDigest.DigestValue : t.noPreviousProof, { mono: s.PreviousEvidenceDigest !== null });

  w.section(t.howToVerify);
  w.paragraph(t.verifyPdf, { size: 9.5 });
  w.gap(4);
  w.paragraph(t.verifyProof, { size: 9.5 });
  w.gap(3);
  for (const command of t.verifyCommands) w.paragraph(command.replace('{proof}', fileName), { font: fonts.mono, size: 8.5 });

  w.footers(t, s.EvidenceIdentifier);
  return doc;
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
const offsetFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Brussels', timeZoneName: 'longOffset' });

/** The event time as people read it in Belgium, and in UTC. */
function timeLines(at: Date, t: ReceiptTexts): string {
  let format = dateFormats.get(t.locale);
  if (!format) {
    format = new Intl.DateTimeFormat(t.locale, { timeZone: 'Europe/Brussels', dateStyle: 'long', timeStyle: 'medium', hourCycle: 'h23' });
    dateFormats.set(t.locale, format);
  }
  const brussels = format.format(at);
  const offset = offsetFormat
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')!
    .value.replace('GMT', 'UTC');
  return `${brussels} (${t.brusselsTime}, ${offset === 'UTC' ? 'UTC+00:00' : offset})\n${at.toISOString().replace('T', ' ').replace('Z', '')} ${t.utc}`.replace(/\u202f/g, ' ');
}

/** The last part of a reason code URI (…/reasons/NOT_CONSULTED_BEFORE_EXPIRY). */
function reasonName(code: string): string {
  return code.slice(code.lastIndexOf('/') + 1) || code;
}

interface TextStyle {
  font?: PDFFont;
  size?: number;
  color?: RGB;
}

/** A cursor down the pages: paragraphs wrapped to the width, label/value rows, page breaks. */
class Writer {
  private page!: PDFPage;
  private y = 0;
  private readonly pages: PDFPage[] = [];

  constructor(
    private readonly doc: PDFDocument,
    private readonly fonts: Fonts,
  ) {
    this.newPage();
  }

  private newPage(): void {
    this.page = this.doc.addPage([PAGE.width, PAGE.height]);
    this.pages.push(this.page);
    this.y = PAGE.height - MARGIN.top;
  }

  /** Starts a new page unless `height` points are left. */
  keepTogether(height: number): void {
    if (this.y - height < MARGIN.bottom) this.newPage();
  }

  gap(points: number): void {
    this.y -= points;
  }

  small(text: string, color: RGB): void {
    this.paragraph(text, { size: 9, color });
  }

  section(title: string): void {
    this.keepTogether(60);
    this.gap(10);
    this.page.drawLine({ start: { x: MARGIN.left, y: this.y }, end: { x: PAGE.width - MARGIN.right, y: this.y }, thickness: 0.6, color: RULE });
    this.gap(16);
    this.lines(title, { font: this.fonts.bold, size: 12, color: ACCENT }, MARGIN.left, CONTENT_WIDTH);
    this.gap(2);
  }

  paragraph(text: string, style: TextStyle = {}): void {
    this.lines(text, style, MARGIN.left, CONTENT_WIDTH);
  }

  /** A label on the left, its value wrapped on the right; the row's height is the taller one. */
  field(label: string, value: string, options: { mono?: boolean; bold?: boolean } = {}): void {
    const valueStyle: TextStyle = options.mono ? { font: this.fonts.mono, size: 8.5 } : { font: options.bold ? this.fonts.bold : this.fonts.regular, size: 10 };
    const labelStyle: TextStyle = { size: 9, color: MUTED };
    const valueLines = this.wrap(value, valueStyle, CONTENT_WIDTH - LABEL_WIDTH);
    const labelLines = this.wrap(label, labelStyle, LABEL_WIDTH - 10);
    this.keepTogether(Math.min(valueLines.length, 4) * lineHeight(valueStyle) + 4);
    const top = this.y;
    this.drawLines(labelLines, labelStyle, MARGIN.left);
    const afterLabel = this.y;
    this.y = top;
    this.drawLines(valueLines, valueStyle, MARGIN.left + LABEL_WIDTH);
    this.y = Math.min(this.y, afterLabel) - 4;
  }

  /** Page n of m and the evidence identifier at the foot of every page. */
  footers(t: ReceiptTexts, evidenceId: string): void {
    const style = { font: this.fonts.regular, size: 8, color: MUTED };
    this.pages.forEach((page, i) => {
      page.drawLine({ start: { x: MARGIN.left, y: MARGIN.bottom - 20 }, end: { x: PAGE.width - MARGIN.right, y: MARGIN.bottom - 20 }, thickness: 0.4, color: RULE });
      page.drawText(evidenceId, { x: MARGIN.left, y: MARGIN.bottom - 32, ...style });
      const text = t.page(i + 1, this.pages.length);
      page.drawText(text, { x: PAGE.width - MARGIN.right - style.font.widthOfTextAtSize(text, style.size), y: MARGIN.bottom - 32, ...style });
    });
  }

  private lines(text: string, style: TextStyle, x: number, width: number): void {
    this.drawLines(this.wrap(text, style, width), style, x);
  }

  private drawLines(lines: string[], style: TextStyle, x: number): void {
    const font = style.font ?? this.fonts.regular;
    const size = style.size ?? 10;
    for (const line of lines) {
      if (this.y - lineHeight(style) < MARGIN.bottom) this.newPage();
      this.y -= lineHeight(style);
      if (line) this.page.drawText(line, { x, y: this.y + size * 0.3, font, size, color: style.color ?? INK });
    }
  }

  /**
   * Words wrapped to `width`; a word longer than the width (an identifier, a file name) is cut.
   * A line's width is the sum of its words' and spaces' widths, each measured once (shaping a
   * whole candidate line again for every word is most of what a page would cost).
   */
  private wrap(text: string, style: TextStyle, width: number): string[] {
    const font = style.font ?? this.fonts.regular;
    const size = style.size ?? 10;
    const measure = (s: string) => textWidth(font, s) * size;
    const space = measure(' ');
    const out: string[] = [];
    for (const para of text.split('\n')) {
      let line = '';
      let lineWidth = 0;
      for (const word of para.split(/ +/)) {
        const w = measure(word);
        if (!line || lineWidth + space + w > width) {
          if (line) out.push(line);
          line = word;
          lineWidth = w;
          while (lineWidth > width) {
            const chars = Array.from(line); // by code point: never half a surrogate pair
            let cut = chars.length - 1;
            while (cut > 1 && measure(chars.slice(0, cut).join('')) > width) cut--;
            out.push(chars.slice(0, cut).join(''));
            line = chars.slice(cut).join('');
            lineWidth = measure(line);
          }
          continue;
        }
        line = `${line} ${word}`;
        lineWidth += space + w;
      }
      out.push(line);
    }
    return out;
  }
}

/** Widths at size 1 by font name and text, kept across documents (bounded: texts come from senders). */
const widths = new Map<string, number>();

function textWidth(font: PDFFont, text: string): number {
  const key = `${font.name}\u0000${text}`;
  let w = widths.get(key);
  if (w === undefined) {
    if (widths.size > 20_000) widths.clear();
    w = font.widthOfTextAtSize(text, 1);
    widths.set(key, w);
  }
  return w;
}

function lineHeight(style: TextStyle): number {
  return (style.size ?? 10) * 1.4;
}
