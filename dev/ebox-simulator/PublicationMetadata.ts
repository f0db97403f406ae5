/**
 * The `metadata` part of a publication, as the simulated e-Box reads it. Shaped after the
 * e-Box publication API (docs/ebox-api.md), plus a digest per
 * attachment so that a corrupted upload is refused:
 *
 *   {
 *     "recipient": { "eboxType": "citizen", "ssin": "85073003328" }
 *                | { "eboxType": "enterprise", "enterpriseNumber": "0403019261" },
 *     "subject": { "nl"?: string, "fr"?: string, "de"?: string, "en"?: string },  at least one
 *     "messageTypeId": string,
 *     "senderApplicationId": string,
 *     "registeredMail": boolean,
 *     "expirationDate": ISO 8601 date or date-time, in the future,
 *     "sender"?: { "id": string, "name": string },          on whose behalf it is published
 *     "attachments": [                                       1 to 6, exactly one main content
 *       { "httpPartName": string, "isMainContent": boolean, "mediaType"?: string,
 *         "isAttachmentSigned"?: boolean,
 *         "digest": { "algorithm": "SHA-256", "value": 64 hex digits } }
 *     ]
 *   }
 *
 * Written against the API, not against HttpEboxAdapter: the simulator does not import
 * the client's types, so the tests check the wire format both sides agree on.
 */
import { isValidInsz, isValidKbo } from '../../src/domain/identifiers.js';

export const MAX_ATTACHMENTS = 6;
export const SUBJECT_LANGUAGES = ['nl', 'fr', 'de', 'en'] as const;
export type SubjectLanguage = (typeof SUBJECT_LANGUAGES)[number];
export type EboxType = 'citizen' | 'enterprise';

export interface EboxRecipientRef {
  eboxType: EboxType;
  /** the SSIN (citizen) or the enterprise number */
  id: string;
}

export interface AttachmentDeclaration {
  httpPartName: string;
  isMainContent: boolean;
  mediaType: string | undefined;
  isAttachmentSigned: boolean;
  /** lower-case hex SHA-256 the sender announces */
  sha256: string;
}

export interface PublicationMetadata {
  recipient: EboxRecipientRef;
  subject: Partial<Record<SubjectLanguage, string>>;
  messageTypeId: string;
  senderApplicationId: string;
  registeredMail: boolean;
  expirationDate: string;
  sender: { id: string; name: string } | undefined;
  attachments: AttachmentDeclaration[];
}

export type MetadataResult = { ok: true; metadata: PublicationMetadata } | { ok: false; detail: string };

/** Validates the parsed JSON of the metadata part. `now` is for the expiration date check. */
export function readPublicationMetadata(json: unknown, now: number): MetadataResult {
  const fail = (detail: string): MetadataResult => ({ ok: false, detail });
  if (!isObject(json)) return fail('metadata must be a JSON object');

  const recipient = readRecipient(json.recipient);
  if (typeof recipient === 'string') return fail(recipient);

  if (!isObject(json.subject)) return fail('subject must be an object with nl, fr, de or en');
  const subject: Partial<Record<SubjectLanguage, string>> = {};
  for (const [lang, text] of Object.entries(json.subject)) {
    if (!(SUBJECT_LANGUAGES as readonly string[]).includes(lang)) return fail(`subject: unknown language "${lang}"`);
    if (typeof text !== 'string' || text.trim() === '') return fail(`subject.${lang} must be a non-empty string`);
    subject[lang as SubjectLanguage] = text;
  }
  if (Object.keys(subject).length === 0) return fail('subject needs at least one language');

  for (const field of ['messageTypeId', 'senderApplicationId'] as const) {
    if (typeof json[field] !== 'string' || (json[field] as string).trim() === '') return fail(`${field} must be a non-empty string`);
  }
  if (typeof json.registeredMail !== 'boolean') return fail('registeredMail must be a boolean');
  if (typeof json.expirationDate !== 'string' || Number.isNaN(Date.parse(json.expirationDate))) {
    return fail('expirationDate must be an ISO 8601 date');
  }
  if (Date.parse(json.expirationDate) <= now) return fail('expirationDate is in the past');

  let sender: PublicationMetadata['sender'];
  if (json.sender !== undefined) {
    if (!isObject(json.sender) || typeof json.sender.id !== 'string' || typeof json.sender.name !== 'string') {
      return fail('sender must be {id, name}');
    }
    sender = { id: json.sender.id, name: json.sender.name };
  }

  if (!Array.isArray(json.attachments) || json.attachments.length === 0) return fail('attachments must be a non-empty array');
  if (json.attachments.length > MAX_ATTACHMENTS) return fail(`at most ${MAX_ATTACHMENTS} attachments per publication`);
  const attachments: AttachmentDeclaration[] = [];
  for (const [i, a] of json.attachments.entries()) {
    const read = readAttachment(a, i);
    if (typeof read === 'string') return fail(read);
    if (attachments.some((b) => b.httpPartName === read.httpPartName)) return fail(`attachments[${i}]: httpPartName "${read.httpPartName}" repeated`);
    attachments.push(read);
  }
  if (attachments.filter((a) => a.isMainContent).length !== 1) return fail('exactly one attachment must be the main content');

  return {
    ok: true,
    metadata: {
      recipient,
      subject,
      messageTypeId: json.messageTypeId as string,
      senderApplicationId: json.senderApplicationId as string,
      registeredMail: json.registeredMail,
      expirationDate: json.expirationDate,
      sender,
      attachments,
    },
  };
}

function readRecipient(r: unknown): EboxRecipientRef | string {
  if (!isObject(r)) return 'recipient must be an object';
  if (r.eboxType === 'citizen') {
    if (typeof r.ssin !== 'string' || !isValidInsz(r.ssin)) return 'recipient.ssin must be a valid SSIN (11 digits, mod 97)';
    return { eboxType: 'citizen', id: r.ssin };
  }
  if (r.eboxType === 'enterprise') {
    if (typeof r.enterpriseNumber !== 'string' || !isValidKbo(r.enterpriseNumber)) {
      return 'recipient.enterpriseNumber must be a valid enterprise number (10 digits, mod 97)';
    }
    return { eboxType: 'enterprise', id: r.enterpriseNumber };
  }
  return 'recipient.eboxType must be "citizen" or "enterprise"';
}

function readAttachment(a: unknown, i: number): AttachmentDeclaration | string {
  const at = `attachments[${i}]`;
  if (!isObject(a)) return `${at} must be an object`;
  if (typeof a.httpPartName !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(a.httpPartName)) {
    return `${at}.httpPartName must be 1 to 100 of A-Z a-z 0-9 . _ -`;
  }
  if (a.httpPartName === 'metadata') return `${at}.httpPartName cannot be "metadata"`;
  if (typeof a.isMainContent !== 'boolean') return `${at}.isMainContent must be a boolean`;
  if (a.mediaType !== undefined && (typeof a.mediaType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;[\x20-\x7e]*)?$/.test(a.mediaType))) {
    return `${at}.mediaType must be type/subtype`;
  }
  if (a.isAttachmentSigned !== undefined && typeof a.isAttachmentSigned !== 'boolean') return `${at}.isAttachmentSigned must be a boolean`;
  const d = a.digest;
  if (!isObject(d) || d.algorithm !== 'SHA-256' || typeof d.value !== 'string' || !/^[0-9a-fA-F]{64}$/.test(d.value)) {
    return `${at}.digest must be {"algorithm": "SHA-256", "value": 64 hex digits}`;
  }
  return {
    httpPartName: a.httpPartName,
    isMainContent: a.isMainContent,
    mediaType: a.mediaType,
    isAttachmentSigned: a.isAttachmentSigned ?? false,
    sha256: d.value.toLowerCase(),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
