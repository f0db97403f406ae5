/** JSON shapes of the API's resources (kept in step with the OpenAPI document). */
import type { MessageView } from '../registered-mail/consult.js';
import type { CredentialRecord, DocumentRecord, EvidenceRecord, MailboxRecord, MessageRecord } from '../domain/records.js';

/** A proof in a list; `message` is the path of its message as the caller sees it (sender or e-Box). */
export function evidenceSummary(e: EvidenceRecord, message = `/v1/messages/${e.messageId}`) {
  const href = `${message}/evidence/${e.id}`;
  return {
    id: e.id,
    type: e.type,
    sequence: e.seq,
    sha256: e.sha256,
    createdAt: e.createdAt,
    href,
    receipt: `${href}/receipt.pdf`,
  };
}

export function evidenceJson(e: EvidenceRecord) {
  return { ...evidenceSummary(e), statement: JSON.parse(e.statement) as unknown };
}

export function messageSummary(m: MessageRecord) {
  return {
    id: m.id,
    status: m.status,
    recipient: { type: m.recipientType, id: m.recipientId },
    subject: m.subject,
    senderReference: m.senderReference,
    submittedAt: m.submittedAt,
    updatedAt: m.updatedAt,
    expiresAt: m.expiresAt,
    href: `/v1/messages/${m.id}`,
  };
}

export function documentJson(d: DocumentRecord) {
  return { httpPartName: d.partName, fileName: d.fileName, mediaType: d.mediaType, size: d.size, sha256: d.sha256, isMainContent: d.isMain };
}

export function messageJson(view: MessageView, opts: { includeEvents: boolean }) {
  const m = view.message;
  const out: Record<string, unknown> = {
    ...messageSummary(m),
    eboxMessageId: m.eboxMessageId,
    documentsPurgedAt: m.documentsPurgedAt,
    documents: view.documents.map(documentJson),
    evidence: view.evidence.map((e) => evidenceSummary(e)),
    callbacks: view.callbacks,
  };
  if (opts.includeEvents) out.events = view.events.map((e) => ({ sequence: e.seq, type: e.type, at: e.at, data: e.data }));
  return out;
}

export function mailboxJson(e: MailboxRecord, documents?: DocumentRecord[]) {
  return {
    id: e.id,
    sender: e.senderName,
    subject: e.subject,
    registered: e.registered,
    depositedAt: e.depositedAt,
    expiresAt: e.expiresAt,
    read: e.firstReadAt !== null,
    firstReadAt: e.firstReadAt,
    href: `/v1/ebox/messages/${e.id}`,
    ...(documents
      ? { documents: documents.map((d) => ({ ...documentJson(d), href: `/v1/ebox/messages/${e.id}/documents/${d.position}` })) }
      : {}),
  };
}

/** A sender's credential as the operator sees it: never the secret, only its hint. */
export function credentialJson(c: CredentialRecord) {
  const now = Date.now();
  const state = c.revokedAt ? 'revoked' : c.expiresAt && Date.parse(c.expiresAt) <= now ? 'expired' : 'active';
  return { id: c.id, kind: c.kind, name: c.name, hint: c.hint, state, createdAt: c.createdAt, lastUsedAt: c.lastUsedAt, expiresAt: c.expiresAt, revokedAt: c.revokedAt };
}
