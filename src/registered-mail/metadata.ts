/**
 * The metadata part of a submission (POST /v1/messages): the recipient, the subject in one
 * or more languages, the sender's reference and the document parts, validated into a
 * SubmissionMetadata; every problem is a ServiceError with its own code.
 */
import { ServiceError } from '../domain/errors.js';
import { LANGUAGES, type Subject } from '../domain/EvidenceStatement.js';
import { isValidRecipientId, normaliseIdentifier, type Recipient } from '../domain/identifiers.js';
import { NulInJsonError, refuseNul, unsafeTextReason } from '../domain/text.js';

/** the name of a document part, as the metadata links it */
export const PART_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export interface SubmissionMetadata {
  recipient: Recipient;
  subject: Subject;
  senderReference: string | null;
  documents: Array<{ httpPartName: string; isMainContent: boolean }>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates the metadata JSON; every problem is a ServiceError with its own code. */
export function parseMetadata(raw: string | undefined, maxDocuments: number): SubmissionMetadata {
  if (raw === undefined) throw new ServiceError('METADATA_MISSING', 'the multipart body needs a "metadata" part holding JSON');
  let value: unknown;
  try {
    value = JSON.parse(raw, refuseNul);
  } catch (err) {
    if (err instanceof NulInJsonError) throw new ServiceError('METADATA_INVALID', err.message, { cause: err });
    throw new ServiceError('METADATA_INVALID', 'the metadata part is not valid JSON', { cause: err });
  }
  if (!isObject(value)) throw new ServiceError('METADATA_INVALID', 'the metadata must be a JSON object');

  const r = value.recipient;
  if (!isObject(r) || (r.type !== 'citizen' && r.type !== 'enterprise') || typeof r.id !== 'string') {
    throw new ServiceError('RECIPIENT_INVALID', 'recipient must be {"type": "citizen"|"enterprise", "id": "…"}');
  }
  const id = normaliseIdentifier(r.id);
  if (!isValidRecipientId(r.type, id)) {
    throw new ServiceError(
      'RECIPIENT_INVALID',
      r.type === 'citizen' ? `"${r.id}" is not a valid INSZ/NISS number (11 digits, mod-97 check)` : `"${r.id}" is not a valid KBO/BCE number (10 digits, mod-97 check)`,
    );
  }

  const s = value.subject;
  if (!isObject(s) || Object.keys(s).length === 0) throw new ServiceError('SUBJECT_INVALID', 'subject must give the text in at least one of nl, fr, de, en');
  const subject: Subject = {};
  for (const [lang, text] of Object.entries(s)) {
    if (!(LANGUAGES as readonly string[]).includes(lang)) throw new ServiceError('SUBJECT_INVALID', `subject language "${lang}" is not one of nl, fr, de, en`);
    if (typeof text !== 'string' || text.trim().length === 0 || text.length > 255) {
      throw new ServiceError('SUBJECT_INVALID', `subject.${lang} must be 1 to 255 characters`);
    }
    const unsafe = unsafeTextReason(text);
    if (unsafe) throw new ServiceError('SUBJECT_INVALID', `subject.${lang} ${unsafe}`);
    subject[lang as keyof Subject] = text;
  }

  const ref = value.senderReference;
  if (ref !== undefined && ref !== null && (typeof ref !== 'string' || ref.length > 200)) {
    throw new ServiceError('METADATA_INVALID', 'senderReference must be a string of at most 200 characters');
  }
  const unsafeRef = typeof ref === 'string' ? unsafeTextReason(ref) : undefined;
  if (unsafeRef) throw new ServiceError('METADATA_INVALID', `senderReference ${unsafeRef}`);

  const docs = value.documents;
  if (!Array.isArray(docs) || docs.length === 0) {
    throw new ServiceError('DOCUMENT_MISSING', 'metadata.documents must list the document parts, e.g. [{"httpPartName": "main", "isMainContent": true}]');
  }
  if (docs.length > maxDocuments) throw new ServiceError('TOO_MANY_DOCUMENTS', `at most ${maxDocuments} documents per message`);
  const documents: SubmissionMetadata['documents'] = [];
  for (const d of docs) {
    if (!isObject(d) || typeof d.httpPartName !== 'string' || !PART_NAME.test(d.httpPartName)) {
      throw new ServiceError('METADATA_INVALID', 'each entry of metadata.documents needs an httpPartName of letters, digits, "_", "-" or "."');
    }
    if (d.isMainContent !== undefined && typeof d.isMainContent !== 'boolean') throw new ServiceError('METADATA_INVALID', 'isMainContent must be a boolean');
    if (documents.some((x) => x.httpPartName === d.httpPartName)) throw new ServiceError('METADATA_INVALID', `httpPartName "${d.httpPartName}" is listed twice`);
    documents.push({ httpPartName: d.httpPartName, isMainContent: d.isMainContent === true });
  }
  const mains = documents.filter((d) => d.isMainContent).length;
  if (mains !== 1) throw new ServiceError('MAIN_DOCUMENT_INVALID', `exactly one document must be marked isMainContent (found ${mains})`);

  return { recipient: { type: r.type, id }, subject, senderReference: (ref as string | null | undefined) ?? null, documents };
}
