/**
 * Everything the simulated e-Box remembers, in memory: API clients and their access
 * tokens, the recipient registry, the stored publications with their idempotency keys,
 * and the event feed. Tests started in-process reach it directly; others through
 * `GET /__admin/state`, which returns `snapshot()`.
 *
 * Publications are kept as a list, and the idempotency index only points into it, so
 * `storedCount` (how many entries share a key) would show a double store if the
 * idempotency handling ever let one through.
 */
import { randomUUID } from 'node:crypto';
import { normaliseIdentifier } from '../../src/domain/identifiers.js';
import { Faults } from './Faults.js';
import type { EboxRecipientRef, EboxType, PublicationMetadata } from './PublicationMetadata.js';

export interface SimulatorClient {
  clientId: string;
  clientSecret: string;
}

export interface SimulatorRecipient {
  eboxType: EboxType;
  /** SSIN for a citizen, enterprise number for an enterprise */
  id: string;
  activated: boolean;
}

export interface StoredAttachment {
  httpPartName: string;
  /** the part's file name, percent-decoded */
  fileName: string | undefined;
  mediaType: string;
  isMainContent: boolean;
  size: number;
  /** lower-case hex SHA-256 the simulator computed over the bytes it received */
  sha256: string;
}

export interface StoredPublication {
  publicationId: string;
  idempotencyKey: string;
  clientId: string;
  senderApplicationId: string;
  messageTypeId: string;
  recipient: EboxRecipientRef;
  subject: PublicationMetadata['subject'];
  registeredMail: boolean;
  expirationDate: string;
  sender: PublicationMetadata['sender'];
  attachments: StoredAttachment[];
  receiptDate: string;
  /** SHA-256 over the metadata and the parts' digests: "same content" for the idempotency check */
  fingerprint: string;
  /** how many times a repeat with the same key and content was answered with this publication */
  replays: number;
  readAt: string | null;
}

export const EVENT_TYPES = ['newDocument', 'readDocument'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface SimulatorEvent {
  /** position in the feed, from 1 */
  seq: number;
  eventId: string;
  type: EventType;
  publicationId: string;
  idempotencyKey: string;
  clientId: string;
  occurredAt: string;
}

export interface SimulatorCounters {
  tokensIssued: number;
  tokenRequestsRefused: number;
  /** API calls answered 401 for a missing, unknown or expired token */
  unauthorized: number;
  rateLimited: number;
  publicationRequests: number;
}

export interface SimulatorSnapshot {
  publications: Array<StoredPublication & { storedCount: number }>;
  recipients: SimulatorRecipient[];
  events: SimulatorEvent[];
  counters: SimulatorCounters;
  faultsInjected: Faults['injected'];
  bytesReceived: number;
}

interface IssuedToken {
  clientId: string;
  scope: string;
  expiresAt: number;
}

export class SimulatorState {
  readonly counters: SimulatorCounters = {
    tokensIssued: 0,
    tokenRequestsRefused: 0,
    unauthorized: 0,
    rateLimited: 0,
    publicationRequests: 0,
  };
  /** bytes of file parts received so far, over all requests (counted as they stream in) */
  bytesReceived = 0;
  readonly publications: StoredPublication[] = [];
  readonly events: SimulatorEvent[] = [];

  private readonly clients = new Map<string, string>();
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly recipients = new Map<string, SimulatorRecipient>();
  private readonly byKey = new Map<string, StoredPublication>();

  constructor(
    clients: SimulatorClient[],
    recipients: SimulatorRecipient[],
    readonly faults: Faults,
    readonly tokenTtlSeconds: number,
    readonly now: () => number,
  ) {
    for (const c of clients) this.clients.set(c.clientId, c.clientSecret);
    for (const r of recipients) this.registerRecipient(r);
  }

  // ── OAuth2 ────────────────────────────────────────────────────────────────

  clientSecretMatches(clientId: string, secret: string): boolean {
    const expected = this.clients.get(clientId);
    return expected !== undefined && expected === secret;
  }

  issueToken(clientId: string, scope: string): { accessToken: string; expiresIn: number } {
    const now = this.now();
    for (const [t, v] of this.tokens) if (v.expiresAt <= now) this.tokens.delete(t);
    const accessToken = randomUUID().replace(/-/g, '') + randomUUID().replace(/-/g, '');
    this.tokens.set(accessToken, { clientId, scope, expiresAt: now + this.tokenTtlSeconds * 1000 });
    this.counters.tokensIssued++;
    return { accessToken, expiresIn: this.tokenTtlSeconds };
  }

  /** The client a valid, unexpired token belongs to. */
  tokenOwner(accessToken: string): string | undefined {
    const t = this.tokens.get(accessToken);
    if (!t || t.expiresAt <= this.now()) return undefined;
    return t.clientId;
  }

  /** Makes every issued token invalid at once (as if the e-Box restarted or revoked them). */
  revokeTokens(): number {
    const n = this.tokens.size;
    this.tokens.clear();
    return n;
  }

  // ── Recipients ────────────────────────────────────────────────────────────

  registerRecipient(r: SimulatorRecipient): void {
    this.recipients.set(recipientKey(r.eboxType, r.id), { ...r });
  }

  recipient(eboxType: EboxType, id: string): SimulatorRecipient | undefined {
    return this.recipients.get(recipientKey(eboxType, id));
  }

  // ── Publications ──────────────────────────────────────────────────────────

  findByIdempotencyKey(clientId: string, senderApplicationId: string, key: string): StoredPublication | undefined {
    return this.byKey.get(idempotencyIndex(clientId, senderApplicationId, key));
  }

  /** Stores a publication and announces it in the feed (`newDocument`). */
  store(p: Omit<StoredPublication, 'publicationId' | 'receiptDate' | 'replays' | 'readAt'>): StoredPublication {
    const stored: StoredPublication = {
      ...p,
      publicationId: randomUUID(),
      receiptDate: new Date(this.now()).toISOString(),
      replays: 0,
      readAt: null,
    };
    this.publications.push(stored);
    this.byKey.set(idempotencyIndex(p.clientId, p.senderApplicationId, p.idempotencyKey), stored);
    this.addEvent('newDocument', stored);
    return stored;
  }

  publication(publicationId: string): StoredPublication | undefined {
    return this.publications.find((p) => p.publicationId === publicationId);
  }

  /** The recipient opens the publication: the first time adds a `readDocument` event. */
  markRead(publicationId: string): SimulatorEvent | undefined {
    const p = this.publication(publicationId);
    if (!p) return undefined;
    if (p.readAt !== null) return this.events.find((e) => e.type === 'readDocument' && e.publicationId === publicationId);
    p.readAt = new Date(this.now()).toISOString();
    return this.addEvent('readDocument', p);
  }

  // ── Events ────────────────────────────────────────────────────────────────

  /** The client's events after position `afterSeq`, at most `limit`. */
  eventsAfter(clientId: string, afterSeq: number, limit: number): SimulatorEvent[] {
    const out: SimulatorEvent[] = [];
    for (const e of this.events) {
      if (e.seq <= afterSeq || e.clientId !== clientId) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  snapshot(): SimulatorSnapshot {
    const storedCount = (p: StoredPublication): number =>
      this.publications.filter(
        (q) => q.clientId === p.clientId && q.senderApplicationId === p.senderApplicationId && q.idempotencyKey === p.idempotencyKey,
      ).length;
    return structuredClone({
      publications: this.publications.map((p) => ({ ...p, storedCount: storedCount(p) })),
      recipients: [...this.recipients.values()],
      events: this.events,
      counters: this.counters,
      faultsInjected: this.faults.injected,
      bytesReceived: this.bytesReceived,
    });
  }

  private addEvent(type: EventType, p: StoredPublication): SimulatorEvent {
    const e: SimulatorEvent = {
      seq: this.events.length + 1,
      eventId: randomUUID(),
      type,
      publicationId: p.publicationId,
      idempotencyKey: p.idempotencyKey,
      clientId: p.clientId,
      occurredAt: new Date(this.now()).toISOString(),
    };
    this.events.push(e);
    return e;
  }
}

/** Opaque feed cursor: base64url of `seq:<n>`, the position of the last event handed out. */
export function encodeEventCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}

export function decodeEventCursor(cursor: string): number | undefined {
  const m = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

function recipientKey(eboxType: EboxType, id: string): string {
  return `${eboxType}:${normaliseIdentifier(id)}`;
}

function idempotencyIndex(clientId: string, senderApplicationId: string, key: string): string {
  return JSON.stringify([clientId, senderApplicationId, key]);
}
