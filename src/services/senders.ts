/**
 * Senders and their API keys. A key is 32 random bytes (base64url) behind a
 * recognisable prefix; only its SHA-256 is stored, so a database leak reveals no key.
 * (A slow password hash is not needed: the key has 256 bits of entropy.)
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Store } from '../store/Store.js';
import type { SenderRecord } from '../store/rows.js';

const KEY_PREFIX = 'rmk_';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export async function createSender(store: Store, name: string): Promise<{ sender: SenderRecord; apiKey: string }> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new RangeError('sender name must be 1 to 200 characters');
  const apiKey = KEY_PREFIX + randomBytes(32).toString('base64url');
  const sender: SenderRecord = { id: randomUUID(), name: trimmed, createdAt: new Date().toISOString(), webhookUrl: null, webhookSecret: null };
  await store.senders.insert(sender, hashApiKey(apiKey));
  return { sender, apiKey };
}

/** The sender owning this key, if any. */
export async function authenticateSender(store: Store, apiKey: string): Promise<SenderRecord | undefined> {
  if (!apiKey.startsWith(KEY_PREFIX) || apiKey.length > 200) return undefined;
  return store.senders.findByApiKeyHash(hashApiKey(apiKey));
}
