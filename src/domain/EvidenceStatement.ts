/**
 * The evidence statement a proof envelops: a JSON object, canonicalised with
 * RFC 8785 (JCS) before it is signed. Field names follow ETSI EN 319 522-2
 * (ERDS evidence), so that a mapping to the standard's XML form is mechanical:
 *
 *   Version                 this schema's version ("1")
 *   EvidenceIdentifier      unique id of this evidence (UUID)
 *   ERDSEventId             http://uri.etsi.org/19522/Event/<EvidenceType>
 *   EventTime               when the event happened (RFC 3339, UTC, milliseconds)
 *   EvidenceIssuerPolicyID  the policy the issuer follows (urn:oid:…)
 *   EvidenceIssuerDetails   who issues the evidence
 *   SenderDetails           the sender (id, name, its own reference)
 *   RecipientDetails        the recipient (citizen by INSZ, enterprise by KBO)
 *   SubmissionTime          when the message was accepted
 *   MessageIdentifier       the message's id
 *   MessageSubject          subject per language
 *   Documents               each part: name, media type, size and SHA-256
 *   PreviousEvidenceDigest  SHA-256 of the DER of the previous proof of this message, or null
 *   EventReasons            for failures: code URI and details
 *   NotificationDetails     NotificationForAcceptance only: how the recipient was told
 *     NotificationIdentifier  the notification's id (the sender reads it at
 *                             GET /v1/notifications/{id})
 *     Deliveries              one per address the notice went to, in the order sent:
 *       Channel                 "GOVAPP" (a push to one app installation) or "SMS"
 *       SentTime                when the provider accepted it (RFC 3339, UTC)
 *       AddressDigest           { DigestMethod: ADDRESS_DIGEST_METHOD (HMAC-SHA256, RFC 6931 §2.3),
 *                                 KeyIdentifier: the key's fingerprint (hex),
 *                                 DigestValue: hex HMAC-SHA256(key, address) }
 *                               with address "tel:<E.164 number>" or "govapp:<installation id>".
 *     The number and the installation id are never in the statement. The digest is keyed
 *     with a secret of the service (EVIDENCE_ADDRESS_DIGEST_KEY), not a plain hash: Belgian
 *     mobile numbers are about 10^8 (+324 and eight digits), so a plain SHA-256 of one is
 *     reversed by trying them all in seconds; without the key, trying them is no help. With
 *     the key, the service (or an auditor it gives the key to) can confirm that a given
 *     number was the one told. (Not in statements sealed before this field existed.)
 */
import { canonicalJson } from './CanonicalJson.js';
import type { RecipientType } from './identifiers.js';

export const EVIDENCE_STATEMENT_VERSION = '1';
export const ETSI_EVENT_BASE = 'http://uri.etsi.org/19522/Event/';
export const SHA256_DIGEST_METHOD = 'http://www.w3.org/2001/04/xmlenc#sha256';
/** HMAC-SHA256 (RFC 6931 §2.3.2, first defined in RFC 4051) */
export const ADDRESS_DIGEST_METHOD = 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256';
export const NOTIFICATION_CHANNELS = ['GOVAPP', 'SMS'] as const;
export type NotificationChannelName = (typeof NOTIFICATION_CHANNELS)[number];

export const EVIDENCE_TYPES = [
  'SubmissionAcceptance',
  'SubmissionRejection',
  'ContentConsignment',
  'ContentConsignmentFailure',
  'ContentHandover',
  'ContentHandoverFailure',
  'NotificationForAcceptance',
] as const;
export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

export const LANGUAGES = ['nl', 'fr', 'de', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
export type Subject = Partial<Record<Language, string>>;

export interface DigestRef {
  DigestMethod: typeof SHA256_DIGEST_METHOD;
  /** lower-case hex, as `sha256sum` prints it */
  DigestValue: string;
}

export interface DocumentDetails extends DigestRef {
  PartName: string;
  FileName: string;
  MediaType: string;
  Size: number;
  IsMainContent: boolean;
}

export interface EventReason {
  Code: string;
  Details?: string;
}

export interface AddressDigest {
  DigestMethod: typeof ADDRESS_DIGEST_METHOD;
  /** lower-case hex fingerprint of the key (which key, should it change) */
  KeyIdentifier: string;
  /** lower-case hex HMAC-SHA256 of "tel:<E.164>" or "govapp:<installation id>" */
  DigestValue: string;
}

export interface NotificationDelivery {
  Channel: NotificationChannelName;
  SentTime: string;
  AddressDigest: AddressDigest;
}

export interface NotificationDetails {
  NotificationIdentifier: string;
  Deliveries: NotificationDelivery[];
}

export interface EvidenceStatement {
  Version: typeof EVIDENCE_STATEMENT_VERSION;
  EvidenceIdentifier: string;
  ERDSEventId: string;
  EventTime: string;
  EvidenceIssuerPolicyID: string[];
  EvidenceIssuerDetails: { Name: string };
  SenderDetails: { Identifier: string; Name: string; Reference: string | null };
  RecipientDetails: { Type: RecipientType; Scheme: 'INSZ' | 'KBO'; Identifier: string };
  SubmissionTime: string;
  MessageIdentifier: string;
  MessageSubject: Subject;
  Documents: DocumentDetails[];
  PreviousEvidenceDigest: DigestRef | null;
  EventReasons?: EventReason[];
  NotificationDetails?: NotificationDetails;
}

export interface StatementInput {
  evidenceId: string;
  type: EvidenceType;
  eventTime: Date;
  policyOid: string;
  issuerName: string;
  sender: { id: string; name: string; reference: string | null };
  recipient: { type: RecipientType; id: string };
  submissionTime: Date;
  messageId: string;
  subject: Subject;
  documents: Array<{ partName: string; fileName: string; mediaType: string; size: number; isMain: boolean; sha256: string }>;
  previousEvidenceSha256: string | null;
  reasons?: EventReason[];
  /** NotificationForAcceptance: the notification and where it was sent (digests only) */
  notification?: NotificationDetails;
}

export function eventUri(type: EvidenceType): string {
  return ETSI_EVENT_BASE + type;
}

export function evidenceTypeOf(uri: string): EvidenceType | undefined {
  if (!uri.startsWith(ETSI_EVENT_BASE)) return undefined;
  const name = uri.slice(ETSI_EVENT_BASE.length);
  return (EVIDENCE_TYPES as readonly string[]).includes(name) ? (name as EvidenceType) : undefined;
}

export function buildStatement(input: StatementInput): EvidenceStatement {
  const statement: EvidenceStatement = {
    Version: EVIDENCE_STATEMENT_VERSION,
    EvidenceIdentifier: input.evidenceId,
    ERDSEventId: eventUri(input.type),
    EventTime: input.eventTime.toISOString(),
    EvidenceIssuerPolicyID: [`urn:oid:${input.policyOid}`],
    EvidenceIssuerDetails: { Name: input.issuerName },
    SenderDetails: { Identifier: input.sender.id, Name: input.sender.name, Reference: input.sender.reference },
    RecipientDetails: {
      Type: input.recipient.type,
      Scheme: input.recipient.type === 'citizen' ? 'INSZ' : 'KBO',
      Identifier: input.recipient.id,
    },
    SubmissionTime: input.submissionTime.toISOString(),
    MessageIdentifier: input.messageId,
    MessageSubject: input.subject,
    Documents: input.documents.map((d) => ({
      PartName: d.partName,
      FileName: d.fileName,
      MediaType: d.mediaType,
      Size: d.size,
      IsMainContent: d.isMain,
      DigestMethod: SHA256_DIGEST_METHOD,
      DigestValue: d.sha256,
    })),
    PreviousEvidenceDigest: input.previousEvidenceSha256
      ? { DigestMethod: SHA256_DIGEST_METHOD, DigestValue: input.previousEvidenceSha256 }
      : null,
  };
  if (input.reasons && input.reasons.length > 0) statement.EventReasons = input.reasons;
  if (input.notification) {
    if (input.type !== 'NotificationForAcceptance') throw new TypeError(`NotificationDetails belong to NotificationForAcceptance, not ${input.type}`);
    statement.NotificationDetails = input.notification;
  }
  return statement;
}

/** RFC 8785 canonical UTF-8 bytes of a statement: what the proof envelops. */
export function canonicalStatementBytes(statement: EvidenceStatement): Uint8Array {
  const text = canonicalJson(statement);
  if (text === undefined) throw new TypeError('statement cannot be canonicalised');
  return new TextEncoder().encode(text);
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Structural check of a statement read back from a proof (schema version 1).
 * Returns the list of problems; empty means it conforms.
 */
export function statementProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['statement is not a JSON object'];
  const s = value as Record<string, unknown>;
  const str = (k: string) => {
    if (typeof s[k] !== 'string' || (s[k] as string).length === 0) problems.push(`${k} must be a non-empty string`);
  };
  const time = (k: string) => {
    str(k);
    if (typeof s[k] === 'string' && Number.isNaN(Date.parse(s[k] as string))) problems.push(`${k} must be an RFC 3339 time`);
  };
  if (s.Version !== EVIDENCE_STATEMENT_VERSION) problems.push(`Version must be "${EVIDENCE_STATEMENT_VERSION}"`);
  str('EvidenceIdentifier');
  str('MessageIdentifier');
  if (typeof s.ERDSEventId !== 'string' || !evidenceTypeOf(s.ERDSEventId)) problems.push('ERDSEventId is not a known ETSI EN 319 522 event');
  time('EventTime');
  time('SubmissionTime');
  if (!Array.isArray(s.EvidenceIssuerPolicyID) || s.EvidenceIssuerPolicyID.length === 0) problems.push('EvidenceIssuerPolicyID must list the policy');
  const rd = s.RecipientDetails as Record<string, unknown> | undefined;
  if (!rd || (rd.Type !== 'citizen' && rd.Type !== 'enterprise') || typeof rd.Identifier !== 'string') problems.push('RecipientDetails is incomplete');
  const sd = s.SenderDetails as Record<string, unknown> | undefined;
  if (!sd || typeof sd.Identifier !== 'string') problems.push('SenderDetails is incomplete');
  if (!Array.isArray(s.Documents)) {
    problems.push('Documents must be an array');
  } else {
    s.Documents.forEach((d: Record<string, unknown>, i: number) => {
      if (d?.DigestMethod !== SHA256_DIGEST_METHOD || typeof d.DigestValue !== 'string' || !HEX64.test(d.DigestValue)) {
        problems.push(`Documents[${i}] must carry a SHA-256 digest in hex`);
      }
      if (typeof d?.Size !== 'number' || typeof d?.FileName !== 'string') problems.push(`Documents[${i}] must name its file and size`);
    });
  }
  if (s.NotificationDetails !== undefined) problems.push(...notificationDetailsProblems(s.NotificationDetails, s.ERDSEventId));
  const prev = s.PreviousEvidenceDigest as Record<string, unknown> | null | undefined;
  if (prev !== null && (typeof prev !== 'object' || typeof prev?.DigestValue !== 'string' || !HEX64.test(prev.DigestValue))) {
    problems.push('PreviousEvidenceDigest must be null or a SHA-256 digest');
  }
  return problems;
}

const HEX = /^[0-9a-f]{16,128}$/;

function notificationDetailsProblems(value: unknown, eventId: unknown): string[] {
  const problems: string[] = [];
  if (eventId !== eventUri('NotificationForAcceptance')) problems.push('NotificationDetails belong to NotificationForAcceptance only');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [...problems, 'NotificationDetails must be an object'];
  const n = value as Record<string, unknown>;
  if (typeof n.NotificationIdentifier !== 'string' || n.NotificationIdentifier.length === 0) problems.push('NotificationDetails.NotificationIdentifier must be a non-empty string');
  if (!Array.isArray(n.Deliveries) || n.Deliveries.length === 0) return [...problems, 'NotificationDetails.Deliveries must list at least one delivery'];
  n.Deliveries.forEach((d: unknown, i: number) => {
    const where = `NotificationDetails.Deliveries[${i}]`;
    const x = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
    if (!(NOTIFICATION_CHANNELS as readonly unknown[]).includes(x.Channel)) problems.push(`${where}.Channel must be one of ${NOTIFICATION_CHANNELS.join(', ')}`);
    if (typeof x.SentTime !== 'string' || Number.isNaN(Date.parse(x.SentTime))) problems.push(`${where}.SentTime must be an RFC 3339 time`);
    const a = (typeof x.AddressDigest === 'object' && x.AddressDigest !== null ? x.AddressDigest : {}) as Record<string, unknown>;
    if (a.DigestMethod !== ADDRESS_DIGEST_METHOD || typeof a.DigestValue !== 'string' || !HEX64.test(a.DigestValue) || typeof a.KeyIdentifier !== 'string' || !HEX.test(a.KeyIdentifier)) {
      problems.push(`${where}.AddressDigest must be an HMAC-SHA256 digest in hex with its key's identifier`);
    }
  });
  return problems;
}
