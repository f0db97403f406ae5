/**
 * Services that look a row up, then insert: a concurrent request can insert the same row,
 * or remove the one it hangs from, between the two. The fuzzer met it (8 requests in flight
 * on the admin contact routes) as a 500 carrying the database's unique or foreign-key
 * violation. Here the interleaving is made deterministic: the lookup is made to miss a row
 * that exists (or to remove the parent first), as the concurrent request would have.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { expect } from 'chai';
import { ServiceError } from '../../src/domain/errors.js';
import { onPostgres } from '../helpers/database.js';
import { startTestService, VALID_INSZ, VALID_KBO, type TestService } from '../helpers/service.js';

/** Makes `obj[method]` run `instead` once, then behave as before. */
function once<T extends object, K extends keyof T>(obj: T, method: K, instead: T[K]): void {
  const own = Object.getOwnPropertyDescriptor(obj, method);
  (obj as Record<K, unknown>)[method] = (...args: unknown[]) => {
    if (own) Object.defineProperty(obj, method, own);
    else delete (obj as Record<K, unknown>)[method];
    return (instead as (...a: unknown[]) => unknown)(...args);
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ServiceError) return err.code;
    return `not a ServiceError: ${(err as Error).message}`;
  }
  return 'no error';
}

describe(`check-then-insert races answer as the check would have (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  /** a valid P-256 public key, as a device registers it */
  const jwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });

  before(async () => {
    svc = await startTestService({}, { worker: false });
  });
  after(async () => {
    await svc?.close();
  });

  it('PUT contact: an entry created by a concurrent request since the lookup is replaced (200), not a unique violation', async () => {
    const contacts = svc.rt.notifications.contacts;
    await contacts.put('citizen', VALID_INSZ, { phoneNumber: '+32470123456', language: 'nl' });
    once(svc.rt.store.contacts, 'findByRecipient', async () => undefined);
    const out = await contacts.put('citizen', VALID_INSZ, { phoneNumber: '+32470654321', language: 'fr' });
    expect(out.created).to.equal(false);
    expect(out.contact).to.include({ phoneNumber: '+32470654321', language: 'fr' });
  });

  it('POST installation: the same id registered by a concurrent request since the check is 409 INSTALLATION_EXISTS', async () => {
    const contacts = svc.rt.notifications.contacts;
    await contacts.put('enterprise', VALID_KBO, { language: 'nl' });
    await contacts.addInstallation('enterprise', VALID_KBO, { id: 'phone-1', pushToken: 'push-1', publicKey: jwk() });
    once(svc.rt.store.contacts, 'findInstallation', async () => undefined);
    expect(await codeOf(contacts.addInstallation('enterprise', VALID_KBO, { id: 'phone-1', pushToken: 'push-2', publicKey: jwk() }))).to.equal('INSTALLATION_EXISTS');
  });

  it('POST installation: a contact removed by a concurrent request since the lookup is 404 NOT_FOUND, not a foreign-key violation', async () => {
    const contacts = svc.rt.notifications.contacts;
    await contacts.put('citizen', '17073003384', { language: 'de' });
    const repo = svc.rt.store.contacts;
    once(repo, 'findInstallation', async () => {
      await contacts.remove('citizen', '17073003384');
      return undefined;
    });
    expect(await codeOf(contacts.addInstallation('citizen', '17073003384', { id: 'phone-2', pushToken: 'push-3', publicKey: jwk() }))).to.equal('NOT_FOUND');
  });

  it('POST /v1/admin/recipients: a recipient registered by a concurrent request since the check is 409 RECIPIENT_EXISTS', async () => {
    await svc.rt.recipients.register('enterprise', VALID_KBO, { activated: true });
    once(svc.rt.store.ebox, 'findRecipient', async () => undefined);
    expect(await codeOf(svc.rt.recipients.register('enterprise', VALID_KBO, { activated: true }))).to.equal('RECIPIENT_EXISTS');
  });

  it('client certificate: one registered by a concurrent request since the check is 409 CREDENTIAL_EXISTS', async () => {
    const { id } = await svc.newSender('Race sender');
    const pem = fs.readFileSync(svc.rootPem, 'utf8');
    await svc.rt.senders.registerCertificate(id, 'first', pem);
    once(svc.rt.store.senders, 'findCredentialByHash', async () => undefined);
    expect(await codeOf(svc.rt.senders.registerCertificate(id, 'second', pem))).to.equal('CREDENTIAL_EXISTS');
  });
});
