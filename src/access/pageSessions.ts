/**
 * The pages' sessions (docs/pages.md). A session id is 32 random bytes (base64url) kept by
 * the browser in a cookie; the database holds only its SHA-256, so reading the table does
 * not let anyone act as the person. A session ends when idle for SESSION_IDLE_SECONDS, at
 * SESSION_MAX_SECONDS after sign-in whatever its use, or at sign-out (its row deleted).
 *
 * The CSRF token of a session is derived from its id (SHA-256 of a label and the id): it is
 * stored nowhere, a form carries it, and only someone who holds the session id can make it.
 *
 * Clerks: the operator maps an identity provider's (issuer, subject) to a sender. The mapping
 * is looked up on every request, so a removal holds at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import { isValidInsz } from '../domain/identifiers.js';
import type { Repositories } from '../store/Repositories.js';
import type { SenderClerkRow } from '../store/PageSessionRepository.js';

/** how long a sign-in may take at the identity provider */
const ATTEMPT_SECONDS = 10 * 60;
/** the last use is written at most this often, so reading a page does not add a write each time */
const TOUCH_INTERVAL_MS = 15_000;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const randomId = () => randomBytes(32).toString('base64url');

export interface SignedInPerson {
  issuer: string;
  subject: string;
  name: string;
  /** a citizen's INSZ/NISS, when the ID token carried a valid one */
  insz: string | null;
}

export interface PageSession extends SignedInPerson {
  /** the id the browser holds (never stored) */
  id: string;
  csrfToken: string;
  /** the sender this person is a clerk of, if the operator mapped them */
  clerk?: { senderId: string; senderName: string };
}

export interface SigninAttempt {
  state: string;
  nonce: string;
  codeVerifier: string;
  nextPath: string;
  lang: string;
}

export interface Clerk {
  issuer: string;
  subject: string;
  senderId: string;
  name: string | null;
  createdAt: string;
}

export class PageSessionService {
  constructor(
    private readonly store: Repositories,
    private readonly config: Pick<Config['pages'], 'sessionIdleSeconds' | 'sessionMaxSeconds'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Keeps a new sign-in's secrets; returns the attempt's id, for a cookie. */
  async startAttempt(a: SigninAttempt): Promise<string> {
    const id = randomId();
    const expiresAt = new Date(this.now().getTime() + ATTEMPT_SECONDS * 1000).toISOString();
    await this.store.pageSessions.insertAttempt({ idHash: sha256(id), ...a, expiresAt });
    return id;
  }

  /** The attempt of this cookie, taken once: a replayed callback finds nothing. */
  async takeAttempt(id: string): Promise<SigninAttempt | undefined> {
    const a = await this.store.pageSessions.takeAttempt(sha256(id));
    if (!a || a.expiresAt <= this.now().toISOString()) return undefined;
    return { state: a.state, nonce: a.nonce, codeVerifier: a.codeVerifier, nextPath: a.nextPath, lang: a.lang };
  }

  /** A new session for a person the identity provider vouched for; returns its id, for the cookie. */
  async create(person: SignedInPerson): Promise<string> {
    if (person.insz !== null && !isValidInsz(person.insz)) throw new ServiceError('FORBIDDEN', 'not a valid INSZ/NISS');
    // sessions and attempts nobody came back to are removed as new ones are made
    await this.sweep();
    const id = randomId();
    const now = this.now();
    await this.store.pageSessions.insertSession({
      idHash: sha256(id),
      issuer: person.issuer,
      subject: person.subject,
      name: person.name.slice(0, 200),
      insz: person.insz,
      createdAt: now.toISOString(),
      lastSeenAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.config.sessionMaxSeconds * 1000).toISOString(),
    });
    return id;
  }

  /** The live session of this id, its last use noted; undefined when unknown, idle too long or past its absolute expiry (then deleted). */
  async find(id: string): Promise<PageSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const hash = sha256(id);
    const row = await this.store.pageSessions.findSession(hash);
    if (!row) return undefined;
    const now = this.now();
    const idleUntil = new Date(row.lastSeenAt).getTime() + this.config.sessionIdleSeconds * 1000;
    if (now.toISOString() >= row.expiresAt || now.getTime() >= idleUntil) {
      await this.store.pageSessions.deleteSession(hash);
      return undefined;
    }
    if (now.getTime() - new Date(row.lastSeenAt).getTime() >= TOUCH_INTERVAL_MS) await this.store.pageSessions.touchSession(hash, now.toISOString());
    const session: PageSession = { id, issuer: row.issuer, subject: row.subject, name: row.name, insz: row.insz, csrfToken: csrfTokenOf(id) };
    const clerk = await this.store.pageSessions.findClerk(row.issuer, row.subject);
    if (clerk) {
      const sender = await this.store.senders.findById(clerk.senderId);
      if (sender) session.clerk = { senderId: sender.id, senderName: sender.name };
    }
    return session;
  }

  async end(id: string): Promise<void> {
    await this.store.pageSessions.deleteSession(sha256(id));
  }

  /** Deletes expired sessions and attempts (at each sign-in). */
  async sweep(): Promise<number> {
    const now = this.now();
    return this.store.pageSessions.deleteExpired(now.toISOString(), new Date(now.getTime() - this.config.sessionIdleSeconds * 1000).toISOString());
  }

  // --- the operator's mapping of clerks to senders ---

  async mapClerk(senderId: string, input: { issuer: unknown; subject: unknown; name?: unknown }): Promise<Clerk> {
    if (!(await this.store.senders.findById(senderId))) throw new ServiceError('NOT_FOUND', 'no such sender');
    const issuer = clerkIssuer(input.issuer);
    const subject = clerkText(input.subject, 'subject', 255);
    const name = input.name === undefined || input.name === null ? null : clerkText(input.name, 'name', 200);
    const row: SenderClerkRow = { issuer, subject, senderId, name, createdAt: this.now().toISOString() };
    const existing = await this.store.pageSessions.findClerk(issuer, subject);
    if (existing && existing.senderId !== senderId) throw new ServiceError('CLERK_EXISTS', 'this identity is already the clerk of another sender');
    await this.store.pageSessions.upsertClerk(existing ? { ...row, createdAt: existing.createdAt } : row);
    return existing ? { ...row, createdAt: existing.createdAt } : row;
  }

  async clerks(senderId: string): Promise<Clerk[]> {
    if (!(await this.store.senders.findById(senderId))) throw new ServiceError('NOT_FOUND', 'no such sender');
    return this.store.pageSessions.listClerks(senderId);
  }

  async unmapClerk(senderId: string, issuer: unknown, subject: unknown): Promise<void> {
    const ok = await this.store.pageSessions.deleteClerk(senderId, clerkIssuer(issuer), clerkText(subject, 'subject', 255));
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such clerk');
  }
}

/** The CSRF token of a session: derived from its id, stored nowhere. */
export function csrfTokenOf(sessionId: string): string {
  return createHash('sha256').update(`csrf\0${sessionId}`, 'utf8').digest('base64url');
}

function clerkText(v: unknown, what: string, max: number): string {
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > max || /\p{Cc}/u.test(v)) {
    throw new ServiceError('CLERK_INVALID', `${what} must be 1 to ${max} characters, no control characters`);
  }
  return v.trim();
}

function clerkIssuer(v: unknown): string {
  const s = clerkText(v, 'issuer', 500);
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new ServiceError('CLERK_INVALID', 'issuer must be a URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ServiceError('CLERK_INVALID', 'issuer must be an http(s) URL');
  return s;
}
