/** Plain records the repositories read and write. */
import type { RecipientType } from './identifiers.js';
import type { EvidenceType, Subject } from './EvidenceStatement.js';
import type { MessageStatus } from './status.js';

export interface SenderRecord {
  id: string;
  name: string;
  createdAt: string;
  webhookUrl: string | null;
  /** HMAC key for webhook signatures (never shown after it is set) */
  webhookSecret: string | null;
}

/** How a sender authenticates: an API key (Bearer), or a TLS client certificate known by its SHA-256 fingerprint. */
export type CredentialKind = 'api_key' | 'tls_client_certificate';

export interface CredentialRecord {
  id: string;
  senderId: string;
  kind: CredentialKind;
  /** the operator's name for it ("production", "batch 2027") */
  name: string;
  /** what identifies it to a person without revealing it: an API key's first characters, a certificate's subject */
  hint: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface DocumentRecord {
  id: string;
  messageId: string;
  position: number;
  partName: string;
  fileName: string;
  mediaType: string;
  size: number;
  sha256: string;
  isMain: boolean;
  blobKey: string;
}

export interface MessageRecord {
  id: string;
  senderId: string;
  recipientType: RecipientType;
  recipientId: string;
  subject: Subject;
  senderReference: string | null;
  status: MessageStatus;
  submittedAt: string;
  updatedAt: string;
  expiresAt: string | null;
  eboxMessageId: string | null;
  documentsPurgedAt: string | null;
}

export interface EvidenceRecord {
  id: string;
  messageId: string;
  seq: number;
  type: EvidenceType;
  statement: string;
  der: Uint8Array;
  sha256: string;
  createdAt: string;
}

export interface EventRecord {
  seq: number;
  messageId: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface RecipientRecord {
  id: string;
  type: RecipientType;
  identifier: string;
  name: string | null;
  eboxActivated: boolean;
  createdAt: string;
}

export interface MailboxRecord {
  id: string;
  depositId: string;
  recipientType: RecipientType;
  recipientId: string;
  senderName: string;
  subject: Subject;
  registered: boolean;
  depositedAt: string;
  expiresAt: string;
  firstReadAt: string | null;
}

export interface CheckpointRecord {
  id: number;
  eventSeq: number;
  headHash: string;
  token: Uint8Array;
  genTime: string;
  createdAt: string;
}
