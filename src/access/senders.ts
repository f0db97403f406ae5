/**
 * Senders and their credentials. A sender has any number of named credentials, each
 * created, last used, optionally expiring, and revocable at once:
 * - API keys: 32 random bytes (base64url) behind a recognisable prefix; only their SHA-256
 *   is stored, so a database leak reveals no key (a slow password hash is not needed: the key
 *   has 256 bits of entropy). The first characters are kept as a hint to tell keys apart.
 * - TLS client certificates (mutual TLS, as government service buses use): known by the
 *   SHA-256 fingerprint of their DER; they expire with the certificate at the latest.
 *
 * Every request looks its credential up in the database, so a revocation or an expiry
 * holds at once in every process. The last use is written at most once a minute per
 * credential, so authentication does not add a write to every request.
 */
import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { ServiceError } from '../domain/errors.js';
import { constraintViolation } from '../store/constraints.js';
import type { CredentialKind, CredentialRecord, SenderRecord } from '../domain/records.js';
import type { Repositories } from '../store/Repositories.js';

const KEY_PREFIX = 'rmk_';
const HINT_LENGTH = KEY_PREFIX.length + 6;
/** how often a credential's last use is written */
const TOUCH_INTERVAL_MS = 60_000;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Why a credential was refused: for the log and the metrics only. */
export type CredentialRefusal = 'malformed' | 'unknown' | 'revoked' | 'expired';

export type Authentication = { sender: SenderRecord; credential: CredentialRecord } | { refused: CredentialRefusal };

export interface NewApiKey {
  credential: CredentialRecord;
  /** the key itself, shown once */
  apiKey: string;
}

export class SenderService {
  private readonly touched = new Map<string, number>();

  constructor(private readonly store: Repositories) {}

  /** Creates a sender with a first API key (named "default" unless told). */
  async create(name: string, keyName = 'default'): Promise<{ sender: SenderRecord } & NewApiKey> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw new ServiceError('SENDER_INVALID', 'a sender name is 1 to 200 characters');
    const sender: SenderRecord = { id: randomUUID(), name: trimmed, createdAt: new Date().toISOString(), webhookUrl: null, webhookSecret: null };
    const { record, apiKey, hash } = newApiKey(sender.id, keyName, null);
    await this.store.transaction(async (tx) => {
      await tx.senders.insert(sender);
      await tx.senders.insertCredential(record, hash);
    });
    return { sender, credential: record, apiKey };
  }

  async list(limit = 1000): Promise<SenderRecord[]> {
    return this.store.senders.list(limit);
  }

  async credentials(senderId: string): Promise<CredentialRecord[]> {
    await this.sender(senderId);
    return this.store.senders.listCredentials(senderId);
  }

  /** A new API key for the sender. */
  async issueApiKey(senderId: string, name: unknown, expiresAt?: unknown): Promise<NewApiKey> {
    await this.sender(senderId);
    const { record, apiKey, hash } = newApiKey(senderId, credentialName(name), futureDate(expiresAt));
    await this.store.senders.insertCredential(record, hash);
    return { credential: record, apiKey };
  }

  /**
   * Registers a TLS client certificate (PEM) for the sender; it is honoured when a client
   * presents it over a connection whose chain the service trusts (TLS_CLIENT_CA_FILE).
   */
  async registerCertificate(senderId: string, name: unknown, pem: unknown): Promise<CredentialRecord> {
    await this.sender(senderId);
    if (typeof pem !== 'string' || pem.length > 64 * 1024) throw new ServiceError('CREDENTIAL_INVALID', 'certificate must be a PEM certificate');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(pem);
    } catch (err) {
      throw new ServiceError('CREDENTIAL_INVALID', 'certificate must be a PEM certificate', { cause: err });
    }
    const notAfter = new Date(cert.validTo);
    if (!(notAfter.getTime() > Date.now())) throw new ServiceError('CREDENTIAL_INVALID', 'the certificate has expired');
    const fingerprint = certificateFingerprint(cert.raw);
    if (await this.store.senders.findCredentialByHash('tls_client_certificate', fingerprint)) {
      throw new ServiceError('CREDENTIAL_EXISTS', 'this certificate is registered already');
    }
    const record: CredentialRecord = {
      id: randomUUID(),
      senderId,
      kind: 'tls_client_certificate',
      name: credentialName(name),
      hint: cert.subject.replace(/\n/g, ', ').slice(0, 200),
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
      expiresAt: notAfter.toISOString(),
      revokedAt: null,
    };
    try {
      await this.store.senders.insertCredential(record, fingerprint);
    } catch (err) {
      // registered by a concurrent request since the check above
      if (constraintViolation(err) === 'unique') throw new ServiceError('CREDENTIAL_EXISTS', 'this certificate is registered already', { cause: err });
      throw err;
    }
    return record;
  }

  /**
   * Replaces an API key by a new one of the same name. The old key stays usable for
   * `graceSeconds` (0: revoked at once), so that clients can be switched over.
   */
  async rotateApiKey(senderId: string, credentialId: string, graceSeconds: unknown = 0): Promise<NewApiKey & { previous: CredentialRecord }> {
    if (typeof graceSeconds !== 'number' || !Number.isInteger(graceSeconds) || graceSeconds < 0 || graceSeconds > 30 * 86_400) {
      throw new ServiceError('CREDENTIAL_INVALID', 'graceSeconds must be a whole number of seconds from 0 to 2592000 (30 days)');
    }
    const old = await this.credential(senderId, credentialId);
    if (old.kind !== 'api_key') throw new ServiceError('CREDENTIAL_INVALID', 'only API keys are rotated; register the new certificate and revoke the old one');
    if (old.revokedAt) throw new ServiceError('CREDENTIAL_INVALID', 'this key is revoked');
    const now = new Date();
    const { record, apiKey, hash } = newApiKey(senderId, old.name, old.expiresAt && new Date(old.expiresAt) > now ? old.expiresAt : null);
    await this.store.transaction(async (tx) => {
      await tx.senders.insertCredential(record, hash);
      if (graceSeconds === 0) await tx.senders.revokeCredential(senderId, old.id, now.toISOString());
      else await tx.senders.expireCredential(senderId, old.id, new Date(now.getTime() + graceSeconds * 1000).toISOString());
    });
    return { credential: record, apiKey, previous: await this.credential(senderId, credentialId) };
  }

  /** Revokes a credential at once; revoking it again changes nothing. */
  async revoke(senderId: string, credentialId: string): Promise<CredentialRecord> {
    const ok = await this.store.senders.revokeCredential(senderId, credentialId, new Date().toISOString());
    if (!ok) throw new ServiceError('NOT_FOUND', 'no such credential');
    return this.credential(senderId, credentialId);
  }

  /** The sender whose API key this is, or why not. */
  async authenticateApiKey(apiKey: string): Promise<Authentication> {
    if (!apiKey.startsWith(KEY_PREFIX) || apiKey.length > 200) return { refused: 'malformed' };
    return this.authenticate('api_key', hashApiKey(apiKey));
  }

  /** The sender whose client certificate (DER) this is, or why not. */
  async authenticateCertificate(der: Uint8Array): Promise<Authentication> {
    return this.authenticate('tls_client_certificate', certificateFingerprint(der));
  }

  private async authenticate(kind: CredentialKind, hash: string): Promise<Authentication> {
    // the credential and its sender in one statement
    const found = await this.store.senders.findCredentialWithSender(kind, hash);
    if (!found) return { refused: 'unknown' };
    const { credential, sender } = found;
    const now = Date.now();
    if (credential.revokedAt) return { refused: 'revoked' };
    if (credential.expiresAt && Date.parse(credential.expiresAt) <= now) return { refused: 'expired' };
    if (!sender) return { refused: 'unknown' };
    this.touch(credential, now);
    return { sender, credential };
  }

  /** Writes the last use, at most once a minute per credential; a failure to write it refuses nothing. */
  private touch(credential: CredentialRecord, now: number): void {
    if (now - (this.touched.get(credential.id) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.touched.set(credential.id, now);
    if (this.touched.size > 10_000) this.touched.clear();
    this.store.senders.touchCredential(credential.id, new Date(now).toISOString()).catch(() => this.touched.delete(credential.id));
  }

  private async sender(id: string): Promise<SenderRecord> {
    const sender = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.senders.findById(id) : undefined;
    if (!sender) throw new ServiceError('NOT_FOUND', 'no such sender');
    return sender;
  }

  private async credential(senderId: string, id: string): Promise<CredentialRecord> {
    await this.sender(senderId);
    const c = /^[0-9a-f-]{36}$/i.test(id) ? await this.store.senders.findCredential(senderId, id) : undefined;
    if (!c) throw new ServiceError('NOT_FOUND', 'no such credential');
    return c;
  }
}

/** SHA-256 of a certificate's DER, lowercase hex: how a client certificate is known. */
export function certificateFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}

function newApiKey(senderId: string, name: string, expiresAt: string | null): { record: CredentialRecord; apiKey: string; hash: string } {
  const apiKey = KEY_PREFIX + randomBytes(32).toString('base64url');
  const record: CredentialRecord = {
    id: randomUUID(),
    senderId,
    kind: 'api_key',
    name,
    hint: `${apiKey.slice(0, HINT_LENGTH)}…`,
    createdAt: new Date().toISOString(),
    lastUsedAt: null,
    expiresAt,
    revokedAt: null,
  };
  return { record, apiKey, hash: hashApiKey(apiKey) };
}

function credentialName(name: unknown): string {
  if (name === undefined) return 'default';
  if (typeof name !== 'string' || !/^[\p{L}\p{N} ._-]{1,100}$/u.test(name.trim())) {
    throw new ServiceError('CREDENTIAL_INVALID', 'name must be 1 to 100 letters, digits, spaces, ".", "_" or "-"');
  }
  return name.trim();
}

function futureDate(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new ServiceError('CREDENTIAL_INVALID', 'expiresAt must be an RFC 3339 date or date-time');
  if (t <= Date.now()) throw new ServiceError('CREDENTIAL_INVALID', 'expiresAt must lie in the future');
  return new Date(t).toISOString();
}

/** Creates a sender with its first API key (scripts and tests). */
export async function createSender(store: Repositories, name: string): Promise<{ sender: SenderRecord; apiKey: string }> {
  const { sender, apiKey } = await new SenderService(store).create(name);
  return { sender, apiKey };
}
