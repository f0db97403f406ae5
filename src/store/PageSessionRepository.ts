import type { Knex } from 'knex';

/** A signed-in person's session, known by the SHA-256 of its id (docs/pages.md). */
export interface PageSessionRow {
  idHash: string;
  issuer: string;
  subject: string;
  name: string;
  insz: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

/** A sign-in under way, until the identity provider sends the browser back. */
export interface SigninAttemptRow {
  idHash: string;
  state: string;
  nonce: string;
  codeVerifier: string;
  nextPath: string;
  lang: string;
  expiresAt: string;
}

export interface SenderClerkRow {
  issuer: string;
  subject: string;
  senderId: string;
  name: string | null;
  createdAt: string;
}

/** Page sessions, sign-in attempts and the operator's mapping of clerks to senders. */
export class PageSessionRepository {
  constructor(private readonly db: Knex) {}

  async insertSession(s: PageSessionRow): Promise<void> {
    await this.db('page_sessions').insert({
      id_hash: s.idHash,
      issuer: s.issuer,
      subject: s.subject,
      name: s.name,
      insz: s.insz,
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
    });
  }

  async findSession(idHash: string): Promise<PageSessionRow | undefined> {
    const r = await this.db('page_sessions').where({ id_hash: idHash }).first();
    return (
      r && {
        idHash: r.id_hash,
        issuer: r.issuer,
        subject: r.subject,
        name: r.name,
        insz: r.insz ?? null,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
      }
    );
  }

  async touchSession(idHash: string, at: string): Promise<void> {
    await this.db('page_sessions').where({ id_hash: idHash }).update({ last_seen_at: at });
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db('page_sessions').where({ id_hash: idHash }).delete();
  }

  /** Removes sessions past their absolute expiry or idle since `idleBefore`, and attempts past theirs. */
  async deleteExpired(now: string, idleBefore: string): Promise<number> {
    const a = await this.db('page_sessions').where('expires_at', '<=', now).orWhere('last_seen_at', '<=', idleBefore).delete();
    const b = await this.db('signin_attempts').where('expires_at', '<=', now).delete();
    return a + b;
  }

  async insertAttempt(a: SigninAttemptRow): Promise<void> {
    await this.db('signin_attempts').insert({
      id_hash: a.idHash,
      state: a.state,
      nonce: a.nonce,
      code_verifier: a.codeVerifier,
      next_path: a.nextPath,
      lang: a.lang,
      expires_at: a.expiresAt,
    });
  }

  /** Takes the attempt: it is deleted, so a second callback with the same cookie finds nothing. */
  async takeAttempt(idHash: string): Promise<SigninAttemptRow | undefined> {
    const r = await this.db('signin_attempts').where({ id_hash: idHash }).first();
    if (!r) return undefined;
    // of two callbacks at once, only the one whose delete removed the row goes on
    const n = await this.db('signin_attempts').where({ id_hash: idHash }).delete();
    if (n !== 1) return undefined;
    return { idHash: r.id_hash, state: r.state, nonce: r.nonce, codeVerifier: r.code_verifier, nextPath: r.next_path, lang: r.lang, expiresAt: r.expires_at };
  }

  async upsertClerk(c: SenderClerkRow): Promise<void> {
    await this.db('sender_clerks')
      .insert({ issuer: c.issuer, subject: c.subject, sender_id: c.senderId, name: c.name, created_at: c.createdAt })
      .onConflict(['issuer', 'subject'])
      .merge({ sender_id: c.senderId, name: c.name });
  }

  async findClerk(issuer: string, subject: string): Promise<SenderClerkRow | undefined> {
    const r = await this.db('sender_clerks').where({ issuer, subject }).first();
    return r && toClerk(r);
  }

  async listClerks(senderId: string): Promise<SenderClerkRow[]> {
    return (await this.db('sender_clerks').where({ sender_id: senderId }).orderBy('created_at').orderBy('subject')).map(toClerk);
  }

  async deleteClerk(senderId: string, issuer: string, subject: string): Promise<boolean> {
    return (await this.db('sender_clerks').where({ sender_id: senderId, issuer, subject }).delete()) === 1;
  }
}

function toClerk(r: Record<string, unknown>): SenderClerkRow {
  return { issuer: String(r.issuer), subject: String(r.subject), senderId: String(r.sender_id), name: (r.name as string | null) ?? null, createdAt: String(r.created_at) };
}
