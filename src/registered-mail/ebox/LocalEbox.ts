/**
 * The built-in e-Box: recipients registered in this service's database read their
 * mailbox over /v1/ebox. A deposit stores a mailbox entry that refers to the message's
 * documents in the blob store (no copy); opening a document is reported to the
 * delivery service directly, so `handovers` has nothing to poll.
 */
import { newRowId } from '../../domain/RowId.js';
import type { Recipient } from '../../domain/identifiers.js';
import type { Repositories } from '../../store/Repositories.js';
import type { DepositReceipt, EboxAdapter, EboxDeposit, HandoverEvent, RecipientStatus } from './EboxAdapter.js';

export class LocalEbox implements EboxAdapter {
  readonly name = 'local';

  constructor(private readonly store: Repositories) {}

  async recipientStatus(recipient: Recipient): Promise<RecipientStatus> {
    const r = await this.store.ebox.findRecipient(recipient.type, recipient.id);
    if (!r) return { reachable: false, reason: 'RECIPIENT_UNKNOWN' };
    return r.eboxActivated ? { reachable: true } : { reachable: false, reason: 'EBOX_NOT_ACTIVATED' };
  }

  async deposit(d: EboxDeposit): Promise<DepositReceipt> {
    // its own transaction: the e-Box's record of the deposit is on disk before the receipt
    const entry = await this.store.transaction((tx) => tx.ebox.deposit({
      id: newRowId(),
      depositId: d.depositId,
      recipientType: d.recipient.type,
      recipientId: d.recipient.id,
      senderName: d.sender.name,
      subject: d.subject,
      registered: d.registered,
      depositedAt: new Date().toISOString(),
      expiresAt: d.expiresAt.toISOString(),
      firstReadAt: null,
    }));
    return { eboxMessageId: entry.id, depositedAt: new Date(entry.depositedAt) };
  }

  async handovers(cursor: string | undefined): Promise<{ events: HandoverEvent[]; cursor: string | undefined }> {
    return { events: [], cursor };
  }
}
