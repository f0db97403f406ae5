/**
 * The contact directory of the notification channel: per recipient (citizen or
 * enterprise) a mobile number and a preferred language, and the recipient's GovApp
 * installations (one number may have several devices), each with its push token, its
 * public encryption key (JWK, EC P-256) and whether notifications are on.
 */
import type { Knex } from 'knex';
import type { JWK } from 'jose';
import type { RecipientType } from '../domain/identifiers.js';
import { first, prepared } from './Prepared.js';

/** The recipient's contact entry, looked up for every registered letter's notice (Prepared.ts: the hot path). */
const CONTACT_BY_RECIPIENT = prepared('contact_by_recipient', 'SELECT id, recipient_type, recipient_id, phone_e164, language, time_zone, created_at, updated_at FROM notify_contacts WHERE recipient_type = ? AND recipient_id = ? LIMIT 1');

/** a notification language tag, checked by the notification service (src/notifications/content/Language.ts) */
export type ContactLanguage = string;

export interface ContactRecord {
  id: string;
  recipientType: RecipientType;
  recipientId: string;
  phone: string | null;
  language: ContactLanguage;
  /** IANA time zone of the recipient (quiet hours); null: from the number's country or NOTIFY_TIME_ZONE */
  timeZone: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface InstallationRecord {
  id: string;
  contactId: string;
  pushToken: string;
  publicKey: JWK;
  keyThumbprint: string;
  deviceName: string | null;
  notificationsEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export class ContactRepository {
  constructor(private readonly db: Knex) {}

  async findByRecipient(type: RecipientType, id: string): Promise<ContactRecord | undefined> {
    const row = await first(this.db, CONTACT_BY_RECIPIENT, [type, id]);
    return row && toContact(row);
  }

  async findByPhone(phone: string): Promise<ContactRecord[]> {
    return (await this.db('notify_contacts').where({ phone_e164: phone }).orderBy('created_at')).map(toContact);
  }

  /**
   * The preferred languages of many recipients and numbers at once (a batch's chunk), as
   * findByRecipient and findByPhone would give them one by one: keyed `type:id` and by
   * number (a number's first contact, by creation).
   */
  async languages(recipients: Array<{ type: RecipientType; id: string }>, phones: string[]): Promise<{ byRecipient: Map<string, ContactLanguage>; byPhone: Map<string, ContactLanguage> }> {
    const byRecipient = new Map<string, ContactLanguage>();
    const byPhone = new Map<string, ContactLanguage>();
    const ids = [...new Set(recipients.map((r) => r.id))];
    for (let i = 0; i < ids.length; i += 500) {
      const rows: Array<Record<string, unknown>> = await this.db('notify_contacts').select('recipient_type', 'recipient_id', 'language').whereIn('recipient_type', ['citizen', 'enterprise']).whereIn('recipient_id', ids.slice(i, i + 500));
      for (const r of rows) byRecipient.set(`${r.recipient_type as string}:${r.recipient_id as string}`, r.language as ContactLanguage);
    }
    const numbers = [...new Set(phones)];
    for (let i = 0; i < numbers.length; i += 500) {
      const rows: Array<Record<string, unknown>> = await this.db('notify_contacts').select('phone_e164', 'language').whereIn('phone_e164', numbers.slice(i, i + 500)).orderBy('created_at', 'desc');
      // newest first, so that the oldest contact of a number is the one left in the map
      for (const r of rows) byPhone.set(r.phone_e164 as string, r.language as ContactLanguage);
    }
    return { byRecipient, byPhone };
  }

  async insert(c: ContactRecord): Promise<void> {
    await this.db('notify_contacts').insert({
      id: c.id,
      recipient_type: c.recipientType,
      recipient_id: c.recipientId,
      phone_e164: c.phone,
      language: c.language,
      time_zone: c.timeZone,
      created_at: c.createdAt,
      updated_at: c.updatedAt,
    });
  }

  async update(id: string, patch: { phone: string | null; language: ContactLanguage; timeZone: string | null }): Promise<void> {
    await this.db('notify_contacts').where({ id }).update({ phone_e164: patch.phone, language: patch.language, time_zone: patch.timeZone, updated_at: new Date().toISOString() });
  }

  async delete(id: string): Promise<void> {
    await this.db('notify_installations').where({ contact_id: id }).delete();
    await this.db('notify_contacts').where({ id }).delete();
  }

  async installations(contactIds: string[]): Promise<InstallationRecord[]> {
    if (contactIds.length === 0) return [];
    return (await this.db('notify_installations').whereIn('contact_id', contactIds).orderBy(['created_at', 'id'])).map(toInstallation);
  }

  async findInstallation(id: string): Promise<InstallationRecord | undefined> {
    const row = await this.db('notify_installations').where({ id }).first();
    return row && toInstallation(row);
  }

  async insertInstallation(i: InstallationRecord): Promise<void> {
    await this.db('notify_installations').insert({
      id: i.id,
      contact_id: i.contactId,
      push_token: i.pushToken,
      public_key: JSON.stringify(i.publicKey),
      key_thumbprint: i.keyThumbprint,
      device_name: i.deviceName,
      notifications_enabled: i.notificationsEnabled,
      created_at: i.createdAt,
      updated_at: i.updatedAt,
    });
  }

  async updateInstallation(id: string, patch: Partial<Pick<InstallationRecord, 'pushToken' | 'publicKey' | 'keyThumbprint' | 'deviceName' | 'notificationsEnabled'>>): Promise<void> {
    const row: Record<string, unknown> = { updated_at: new Date().toISOString() };
    if (patch.pushToken !== undefined) row.push_token = patch.pushToken;
    if (patch.publicKey !== undefined) row.public_key = JSON.stringify(patch.publicKey);
    if (patch.keyThumbprint !== undefined) row.key_thumbprint = patch.keyThumbprint;
    if (patch.deviceName !== undefined) row.device_name = patch.deviceName;
    if (patch.notificationsEnabled !== undefined) row.notifications_enabled = patch.notificationsEnabled;
    await this.db('notify_installations').where({ id }).update(row);
  }

  async deleteInstallation(id: string): Promise<boolean> {
    return (await this.db('notify_installations').where({ id }).delete()) === 1;
  }
}

function toContact(r: Record<string, unknown>): ContactRecord {
  return {
    id: r.id as string,
    recipientType: r.recipient_type as RecipientType,
    recipientId: r.recipient_id as string,
    phone: (r.phone_e164 as string | null) ?? null,
    language: r.language as ContactLanguage,
    timeZone: (r.time_zone as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function toInstallation(r: Record<string, unknown>): InstallationRecord {
  return {
    id: r.id as string,
    contactId: r.contact_id as string,
    pushToken: r.push_token as string,
    publicKey: JSON.parse(r.public_key as string) as JWK,
    keyThumbprint: r.key_thumbprint as string,
    deviceName: (r.device_name as string | null) ?? null,
    notificationsEnabled: Boolean(r.notifications_enabled),
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}
