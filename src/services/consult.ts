/**
 * What a sender may read: its own messages, their events and evidence. Another
 * sender's message is reported exactly like a missing one.
 */
import { ServiceError } from '../domain/errors.js';
import type { DocumentRecord, EventRecord, EvidenceRecord, MessageRecord, SenderRecord } from '../store/rows.js';
import type { Store } from '../store/Store.js';

export interface MessageView {
  message: MessageRecord;
  documents: DocumentRecord[];
  events: EventRecord[];
  evidence: EvidenceRecord[];
}

export class ConsultService {
  constructor(private readonly store: Store) {}

  async message(sender: SenderRecord, id: string): Promise<MessageView> {
    const message = await this.ownMessage(sender, id);
    const [documents, events, evidence] = await Promise.all([
      this.store.messages.documents(id),
      this.store.events.listForMessage(id),
      this.store.evidence.listForMessage(id),
    ]);
    return { message, documents, events, evidence };
  }

  async evidenceList(sender: SenderRecord, id: string): Promise<EvidenceRecord[]> {
    await this.ownMessage(sender, id);
    return this.store.evidence.listForMessage(id);
  }

  async evidence(sender: SenderRecord, id: string, evidenceId: string): Promise<EvidenceRecord> {
    await this.ownMessage(sender, id);
    const e = await this.store.evidence.find(id, evidenceId);
    if (!e) throw new ServiceError('NOT_FOUND', 'no such evidence for this message');
    return e;
  }

  private async ownMessage(sender: SenderRecord, id: string): Promise<MessageRecord> {
    const m = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.messages.findForSender(sender.id, id) : undefined;
    if (!m) throw new ServiceError('NOT_FOUND', 'no such message');
    return m;
  }
}
