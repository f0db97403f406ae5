/**
 * The built-in e-Box, recipient side: the registry (created by an operator), recipient
 * authentication by token (stored as SHA-256), the mailbox, and document download — the
 * first opening of a registered message records the handover and queues its
 * ContentHandover evidence. A recipient sees only its own e-Box.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import { isValidRecipientId, normaliseIdentifier, type RecipientType } from '../domain/identifiers.js';
import { constraintViolation } from '../store/constraints.js';
import type { BlobStore } from '../store/BlobStore.js';
import type { DocumentRecord, EvidenceRecord, MailboxRecord, RecipientRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';
import { enqueueSeal } from './delivery.js';

const TOKEN_PREFIX = 'rbx_';

const hashToken = (t: string) => createHash('sha256').update(t, 'utf8').digest('hex');

export interface MailboxItem {
  entry: MailboxRecord;
  documents: DocumentRecord[];
}

export class RecipientService {
  constructor(
    private readonly store: Repositories,
    private readonly blobs: BlobStore,
    private readonly config: Config,
  ) {}

  /** Registers a recipient of the local e-Box; returns its access token, shown once. */
  async register(type: RecipientType, rawId: string, opts: { activated: boolean; name?: string }): Promise<{ recipient: RecipientRecord; token: string }> {
    const identifier = normaliseIdentifier(rawId);
    if (!isValidRecipientId(type, identifier)) throw new ServiceError('RECIPIENT_INVALID', `"${rawId}" is not a valid ${type === 'citizen' ? 'INSZ/NISS' : 'KBO/BCE'} number`);
    // recipients.name holds 200 characters
    if (opts.name !== undefined && (opts.name.trim().length === 0 || opts.name.length > 200)) throw new ServiceError('RECIPIENT_INVALID', 'name must be 1 to 200 characters');
    if (await this.store.ebox.findRecipient(type, identifier)) throw new ServiceError('RECIPIENT_EXISTS', 'this recipient is already registered');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const recipient: RecipientRecord = { id: randomUUID(), type, identifier, name: opts.name ?? null, eboxActivated: opts.activated, createdAt: new Date().toISOString() };
    try {
      await this.store.ebox.insertRecipient(recipient, hashToken(token));
    } catch (err) {
      // registered by a concurrent request since the check above
      if (constraintViolation(err) === 'unique') throw new ServiceError('RECIPIENT_EXISTS', 'this recipient is already registered', { cause: err });
      throw err;
    }
    return { recipient, token };
  }

  async setActivated(type: RecipientType, rawId: string, activated: boolean): Promise<void> {
    const ok = await this.store.ebox.updateRecipient(type, normaliseIdentifier(rawId), { eboxActivated: activated });
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such recipient');
  }

  /**
   * Issues a new access token, which replaces the recipient's current one at once (in every
   * process: each request looks its token up); returns it, shown once.
   */
  async issueToken(type: RecipientType, rawId: string): Promise<string> {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const ok = await this.store.ebox.updateRecipient(type, normaliseIdentifier(rawId), { tokenHash: hashToken(token) });
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such recipient');
    return token;
  }

  /** Withdraws the recipient's access token at once; the e-Box stays, a new token can be issued. */
  async revokeToken(type: RecipientType, rawId: string): Promise<void> {
    const ok = await this.store.ebox.updateRecipient(type, normaliseIdentifier(rawId), { tokenHash: null });
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such recipient');
  }

  /** The recipient whose token this is, or why not (a revoked token is simply unknown). */
  async authenticate(token: string): Promise<RecipientRecord | 'malformed' | 'unknown'> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return 'malformed';
    return (await this.store.ebox.findRecipientByTokenHash(hashToken(token))) ?? 'unknown';
  }

  /** The citizen of this INSZ/NISS in the built-in e-Box (a signed-in person on the pages), if registered. */
  async citizen(insz: string): Promise<RecipientRecord | undefined> {
    return this.store.ebox.findRecipient('citizen', normaliseIdentifier(insz));
  }

  async mailbox(r: RecipientRecord, limit = 100): Promise<MailboxRecord[]> {
    return this.store.ebox.listMailbox(r.type, r.identifier, limit);
  }

  async item(r: RecipientRecord, id: string): Promise<MailboxItem> {
    const entry = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.ebox.findInMailbox(r.type, r.identifier, id) : undefined;
    if (!entry) throw new ServiceError('NOT_FOUND', 'no such message in your e-Box');
    return { entry, documents: await this.store.messages.documents(entry.depositId) };
  }

  /**
   * The proofs of a message in the recipient's e-Box, oldest first: every proof of a message
   * concerns its recipient (dispatch, deposit, notification, handover or its failure).
   */
  async evidenceList(r: RecipientRecord, id: string): Promise<EvidenceRecord[]> {
    const { entry } = await this.item(r, id);
    return this.store.evidence.listForMessage(entry.depositId);
  }

  /** One proof of a message in the recipient's e-Box. */
  async evidence(r: RecipientRecord, id: string, evidenceId: string): Promise<EvidenceRecord> {
    const { entry } = await this.item(r, id);
    const e = /^[0-9a-f-]{36}$/i.test(evidenceId) ? await this.store.evidence.find(entry.depositId, evidenceId) : undefined;
    if (!e) throw new ServiceError('NOT_FOUND', 'no such evidence for this message');
    return e;
  }

  /**
   * Opens a document. The handover is recorded by `delivered`, which the caller calls once
   * the last byte has gone out: a download the recipient broke off is no handover, and the
   * first complete download of a message's document records it (event + ContentHandover).
   */
  async download(r: RecipientRecord, id: string, position: number): Promise<{ document: DocumentRecord; stream: Readable; delivered: () => Promise<void> }> {
    const { entry, documents } = await this.item(r, id);
    const document = documents.find((d) => d.position === position);
    if (!document) throw new ServiceError('NOT_FOUND', 'no such document in this message');
    const message = await this.store.messages.findById(entry.depositId);
    if (message?.documentsPurgedAt) throw new ServiceError('DOCUMENT_PURGED', 'the document was removed at the end of its retention period');
    const delivered = async () => {
      const readAt = new Date().toISOString();
      await this.store.transaction(async (tx) => {
        const first = await tx.ebox.markRead(entry.id, readAt);
        if (!first) return;
        await tx.events.append({ messageId: entry.depositId, type: 'DocumentOpened', at: readAt, data: { mailboxId: entry.id, position, sha256: document.sha256 } });
        await enqueueSeal(tx, this.config, { messageId: entry.depositId, type: 'ContentHandover', eventTime: readAt }, `handover:${entry.depositId}`);
      });
    };
    return { document, stream: this.blobs.open(document.blobKey), delivered };
  }
}
