/**
 * The contact directory, managed by the operator (admin API, scripts/contacts.ts):
 * a recipient's mobile number (E.164, checked with libphonenumber-js), preferred language,
 * and GovApp installations with their push token, public encryption key (JWK, EC P-256,
 * checked to be a valid public point) and notifications on/off.
 */
import { randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import type { Config } from '../config.js';
import { ServiceError } from '../domain/errors.js';
import { isValidRecipientId, normaliseIdentifier, type RecipientType } from '../domain/identifiers.js';
import { DeviceKeyError, validateDevicePublicKey } from './content/DeviceEncryption.js';
import { isLanguage, languageList } from './content/Language.js';
import { checkMobileNumber } from './PhoneNumber.js';
import { isTimeZone } from './QuietHours.js';
import { optOutView, type OptOutView } from './inbound/InboundService.js';
import { constraintViolation } from '../store/constraints.js';
import type { ContactRecord, InstallationRecord } from '../store/ContactRepository.js';
import type { Repositories } from '../store/Repositories.js';

export interface ContactView {
  recipient: { type: RecipientType; id: string };
  phoneNumber: string | null;
  /** the number's opt-outs: answered STOP to a sender, or STOP ALL */
  optOuts: OptOutView[];
  language: string;
  /** IANA time zone for quiet hours; null: the number's country's zone, else NOTIFY_TIME_ZONE */
  timeZone: string | null;
  installations: InstallationView[];
  createdAt: string;
  updatedAt: string;
}

export interface InstallationView {
  id: string;
  deviceName: string | null;
  notificationsEnabled: boolean;
  pushToken: string;
  publicKey: JWK;
  keyThumbprint: string;
  createdAt: string;
  updatedAt: string;
}

function installationView(i: InstallationRecord): InstallationView {
  return { id: i.id, deviceName: i.deviceName, notificationsEnabled: i.notificationsEnabled, pushToken: i.pushToken, publicKey: i.publicKey, keyThumbprint: i.keyThumbprint, createdAt: i.createdAt, updatedAt: i.updatedAt };
}

export class ContactService {
  constructor(
    private readonly store: Repositories,
    private readonly config: Config,
  ) {}

  private recipient(type: unknown, id: unknown): { type: RecipientType; id: string } {
    if ((type !== 'citizen' && type !== 'enterprise') || typeof id !== 'string' || !isValidRecipientId(type, id)) {
      throw new ServiceError('RECIPIENT_INVALID', 'the recipient must be citizen/<INSZ> or enterprise/<KBO> with valid check digits');
    }
    return { type, id: normaliseIdentifier(id) };
  }

  private async contact(type: unknown, id: unknown): Promise<ContactRecord> {
    const r = this.recipient(type, id);
    const c = await this.store.contacts.findByRecipient(r.type, r.id);
    if (!c) throw new ServiceError('NOT_FOUND', 'no contact entry for this recipient');
    return c;
  }

  /** Creates or replaces a recipient's number and language (installations are kept). */
  async put(type: unknown, id: unknown, body: unknown): Promise<{ created: boolean; contact: ContactView }> {
    const r = this.recipient(type, id);
    const b = (typeof body === 'object' && body !== null ? body : {}) as { phoneNumber?: unknown; language?: unknown; timeZone?: unknown };
    let phone: string | null = null;
    if (b.phoneNumber !== undefined && b.phoneNumber !== null) {
      const check = checkMobileNumber(b.phoneNumber);
      if (!check.ok) throw new ServiceError('PHONE_NUMBER_INVALID', check.reason);
      phone = check.e164;
    }
    if (b.language !== undefined && !isLanguage(b.language)) throw new ServiceError('CONTACT_INVALID', `language must be ${languageList()}`);
    if (b.timeZone !== undefined && b.timeZone !== null && !isTimeZone(b.timeZone)) throw new ServiceError('CONTACT_INVALID', 'timeZone must be an IANA time zone such as "Europe/Brussels", or null');
    const language = (b.language as ContactRecord['language'] | undefined) ?? this.config.notify.defaultLanguage;
    const timeZone = (b.timeZone as string | null | undefined) ?? null;
    let existing = await this.store.contacts.findByRecipient(r.type, r.id);
    if (!existing) {
      const now = new Date().toISOString();
      try {
        await this.store.contacts.insert({ id: randomUUID(), recipientType: r.type, recipientId: r.id, phone, language, timeZone, createdAt: now, updatedAt: now });
      } catch (err) {
        // a concurrent request created the entry since the lookup: replace it, as if it had been there
        if (constraintViolation(err) !== 'unique') throw err;
        existing = await this.store.contacts.findByRecipient(r.type, r.id);
        if (!existing) throw err;
      }
    }
    if (existing) await this.store.contacts.update(existing.id, { phone, language, timeZone });
    return { created: !existing, contact: await this.get(r.type, r.id) };
  }

  async get(type: unknown, id: unknown): Promise<ContactView> {
    const c = await this.contact(type, id);
    const installations = await this.store.contacts.installations([c.id]);
    return {
      recipient: { type: c.recipientType, id: c.recipientId },
      phoneNumber: c.phone,
      optOuts: c.phone ? (await this.store.inbound.optOuts(c.phone)).map(optOutView) : [],
      language: c.language,
      timeZone: c.timeZone,
      installations: installations.map(installationView),
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }

  async remove(type: unknown, id: unknown): Promise<void> {
    const c = await this.contact(type, id);
    await this.store.transaction((tx) => tx.contacts.delete(c.id));
  }

  async addInstallation(type: unknown, id: unknown, body: unknown): Promise<InstallationView> {
    const c = await this.contact(type, id);
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const installationId = b.id === undefined ? randomUUID() : b.id;
    if (typeof installationId !== 'string' || !/^[A-Za-z0-9._:-]{1,100}$/.test(installationId)) throw new ServiceError('CONTACT_INVALID', 'id must be 1 to 100 characters of A-Z a-z 0-9 . _ : -');
    if (typeof b.pushToken !== 'string' || b.pushToken.length === 0 || b.pushToken.length > 1000) throw new ServiceError('CONTACT_INVALID', 'pushToken must be a string of 1 to 1000 characters');
    if (b.deviceName !== undefined && (typeof b.deviceName !== 'string' || b.deviceName.length > 200)) throw new ServiceError('CONTACT_INVALID', 'deviceName must be a string of at most 200 characters');
    if (b.notificationsEnabled !== undefined && typeof b.notificationsEnabled !== 'boolean') throw new ServiceError('CONTACT_INVALID', 'notificationsEnabled must be true or false');
    const key = await this.key(b.publicKey);
    if (await this.store.contacts.findInstallation(installationId)) throw new ServiceError('INSTALLATION_EXISTS', `installation ${installationId} is already registered`);
    const now = new Date().toISOString();
    const rec: InstallationRecord = {
      id: installationId,
      contactId: c.id,
      pushToken: b.pushToken,
      publicKey: key.jwk,
      keyThumbprint: key.thumbprint,
      deviceName: (b.deviceName as string | undefined) ?? null,
      notificationsEnabled: b.notificationsEnabled !== false,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.store.contacts.insertInstallation(rec);
    } catch (err) {
      // what a concurrent request did since the checks above: registered the same id, or removed the contact
      const violation = constraintViolation(err);
      if (violation === 'unique') throw new ServiceError('INSTALLATION_EXISTS', `installation ${installationId} is already registered`, { cause: err });
      if (violation === 'foreign_key') throw new ServiceError('NOT_FOUND', 'no contact entry for this recipient', { cause: err });
      throw err;
    }
    return installationView(rec);
  }

  async updateInstallation(type: unknown, id: unknown, installationId: string, body: unknown): Promise<InstallationView> {
    const c = await this.contact(type, id);
    const existing = await this.store.contacts.findInstallation(installationId);
    if (!existing || existing.contactId !== c.id) throw new ServiceError('NOT_FOUND', 'no such installation for this recipient');
    const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    const patch: Parameters<Repositories['contacts']['updateInstallation']>[1] = {};
    if (b.notificationsEnabled !== undefined) {
      if (typeof b.notificationsEnabled !== 'boolean') throw new ServiceError('CONTACT_INVALID', 'notificationsEnabled must be true or false');
      patch.notificationsEnabled = b.notificationsEnabled;
    }
    if (b.pushToken !== undefined) {
      if (typeof b.pushToken !== 'string' || b.pushToken.length === 0 || b.pushToken.length > 1000) throw new ServiceError('CONTACT_INVALID', 'pushToken must be a string of 1 to 1000 characters');
      patch.pushToken = b.pushToken;
    }
    if (b.deviceName !== undefined) {
      if (typeof b.deviceName !== 'string' || b.deviceName.length > 200) throw new ServiceError('CONTACT_INVALID', 'deviceName must be a string of at most 200 characters');
      patch.deviceName = b.deviceName;
    }
    if (b.publicKey !== undefined) {
      const key = await this.key(b.publicKey);
      patch.publicKey = key.jwk;
      patch.keyThumbprint = key.thumbprint;
    }
    await this.store.contacts.updateInstallation(installationId, patch);
    return installationView((await this.store.contacts.findInstallation(installationId))!);
  }

  async removeInstallation(type: unknown, id: unknown, installationId: string): Promise<void> {
    const c = await this.contact(type, id);
    const existing = await this.store.contacts.findInstallation(installationId);
    if (!existing || existing.contactId !== c.id) throw new ServiceError('NOT_FOUND', 'no such installation for this recipient');
    await this.store.contacts.deleteInstallation(installationId);
  }

  private async key(raw: unknown): Promise<{ jwk: JWK; thumbprint: string }> {
    try {
      return await validateDevicePublicKey(raw);
    } catch (err) {
      if (err instanceof DeviceKeyError) throw new ServiceError('DEVICE_KEY_INVALID', err.message, { cause: err });
      throw err;
    }
  }
}
