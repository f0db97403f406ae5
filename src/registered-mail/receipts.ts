/**
 * Receipts: a proof told in words, in nl, fr, de or en, as a PDF a person can read and any
 * PDF reader can check — PAdES B-T by the sealing key with a time-stamp from the service's
 * TSA, the proof itself attached (docs/receipts.md). Made on request from the proof alone,
 * so nothing is stored: the same proof and language give the same pages, and only the
 * signature (its /M time and /Contents) differs from one request to the next.
 */
import { extractTimeStamp, parseTimeStampToken } from '../crypto/index.js';
import { LANGUAGES, type EvidenceStatement, type Language } from '../domain/EvidenceStatement.js';
import type { EvidenceRecord } from '../domain/records.js';
import type { PdfSealer } from './receipts/sign.js';
import { RECEIPT_TEXTS } from './receipts/texts.js';

export { LANGUAGES as RECEIPT_LANGUAGES };

export interface Receipt {
  pdf: Buffer;
  language: Language;
  /** A name for the file: `<type>-<evidence id>.<language>.pdf`. */
  fileName: string;
}

/**
 * The PDF side — pdf-lib, fontkit and @signpdf, some 30 MiB of a process's memory once
 * loaded — comes with the first receipt asked for, not at start: most processes never make
 * one, and a process's memory at rest is what a large upload adds to.
 */
let pdfModules: Promise<[typeof import('./receipts/layout.js'), typeof import('./receipts/sign.js')]> | undefined;
const loadPdfModules = () => (pdfModules ??= Promise.all([import('./receipts/layout.js'), import('./receipts/sign.js')]));

export class ReceiptService {
  constructor(
    private readonly sealer: PdfSealer,
    private readonly issuerLocation = 'Brussels',
  ) {}

  /**
   * The receipt of a proof in `language`; without one, in the first of nl, fr, de, en in
   * which the message's subject is given (the language the sender wrote to the recipient in),
   * else English.
   */
  async receipt(evidence: EvidenceRecord, language?: Language, signingTime: Date = new Date()): Promise<Receipt> {
    const [{ buildReceipt, proofFileName }, { signReceipt, signatureTooLong }] = await loadPdfModules();
    const statement = JSON.parse(evidence.statement) as EvidenceStatement;
    language ??= defaultReceiptLanguage(statement);
    let timeStampedAt: Date | null = null;
    try {
      timeStampedAt = parseTimeStampToken(extractTimeStamp(evidence.der).token).genTime;
    } catch {
      timeStampedAt = null; // a proof without a readable time-stamp: the receipt says nothing of it
    }
    const words = RECEIPT_TEXTS[language];
    const fields = { name: statement.EvidenceIssuerDetails.Name, reason: words.events[evidence.type].title, location: this.issuerLocation, signingTime };
    const build = () => buildReceipt({ statement, proof: evidence.der, proofSha256: evidence.sha256, timeStampedAt, language });
    let pdf: Buffer;
    try {
      pdf = await signReceipt(await build(), this.sealer, fields);
    } catch (err) {
      // a time-stamp token larger than the room left for it (a TSA that sends a long chain): once more, with room for what came
      const needed = signatureTooLong(err);
      if (needed === undefined) throw err;
      pdf = await signReceipt(await build(), this.sealer, fields, needed + 4096);
    }
    return { pdf, language, fileName: proofFileName(statement).replace(/\.p7s$/, `.${language}.pdf`) };
  }
}

/** The first of nl, fr, de, en in which the statement's subject is given, else English. */
export function defaultReceiptLanguage(statement: Pick<EvidenceStatement, 'MessageSubject'>): Language {
  const subject: Record<string, unknown> = statement.MessageSubject ?? {};
  return LANGUAGES.find((l) => Object.hasOwn(subject, l)) ?? 'en';
}
