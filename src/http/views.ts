/** JSON shapes of the API's resources (kept in step with the OpenAPI document). */
import type { MessageView } from '../services/consult.js';
import type { EvidenceRecord } from '../store/rows.js';

export function evidenceSummary(e: EvidenceRecord) {
  return {
    id: e.id,
    type: e.type,
    sequence: e.seq,
    sha256: e.sha256,
    createdAt: e.createdAt,
    href: `/v1/messages/${e.messageId}/evidence/${e.id}`,
  };
}

export function evidenceJson(e: EvidenceRecord) {
  return { ...evidenceSummary(e), statement: JSON.parse(e.statement) as unknown };
}

export function messageJson(view: MessageView, opts: { includeEvents: boolean }) {
  const m = view.message;
  const out: Record<string, unknown> = {
    id: m.id,
    status: m.status,
    recipient: { type: m.recipientType, id: m.recipientId },
    subject: m.subject,
    senderReference: m.senderReference,
    submittedAt: m.submittedAt,
    updatedAt: m.updatedAt,
    documents: view.documents.map((d) => ({
      httpPartName: d.partName,
      fileName: d.fileName,
      mediaType: d.mediaType,
      size: d.size,
      sha256: d.sha256,
      isMainContent: d.isMain,
    })),
    evidence: view.evidence.map(evidenceSummary),
  };
  if (opts.includeEvents) out.events = view.events.map((e) => ({ sequence: e.seq, type: e.type, at: e.at, data: e.data }));
  return out;
}
