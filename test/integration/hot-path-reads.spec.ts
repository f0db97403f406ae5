/**
 * The built-in e-Box's deposit, the contact lookup of a registered letter's notice and the head
 * of a message's chain of proofs run as prepared statements (src/store/Prepared.ts): what they store and read back is what the
 * records say, on the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';
import type { MailboxRecord } from '../../src/domain/records.js';

describe(`the built-in e-Box's deposit, the contact lookup and the chain's head (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;

  before(async () => {
    svc = await startTestService();
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
  });

  const mailbox = (overrides: Partial<MailboxRecord> = {}): MailboxRecord => ({
    id: randomUUID(),
    depositId: randomUUID(),
    recipientType: 'citizen',
    recipientId: VALID_INSZ,
    senderName: 'Rijksdienst voor Pensioenen',
    subject: { nl: 'Uw pensioen', fr: 'Votre pension — «décision»' },
    registered: true,
    depositedAt: '2026-12-04T10:00:00.000Z',
    expiresAt: '2027-01-03T10:00:00.000Z',
    firstReadAt: null,
    ...overrides,
  });

  it('stores a deposit and reads it back as given', async () => {
    const m = mailbox({ registered: false });
    expect(await svc.rt.store.ebox.deposit(m)).to.deep.equal(m);
    expect(await svc.rt.store.ebox.findInMailbox('citizen', VALID_INSZ, m.id)).to.deep.equal(m);
  });

  it('stores a deposit once: the same deposit again returns the first, and changes nothing', async () => {
    const m = mailbox();
    await svc.rt.store.ebox.deposit(m);
    const again = await svc.rt.store.transaction((tx) => tx.ebox.deposit({ ...m, id: randomUUID(), subject: { nl: 'anders' } }));
    expect(again).to.deep.equal(m);
    const listed = (await svc.rt.store.ebox.listMailbox('citizen', VALID_INSZ, 100)).filter((e) => e.depositId === m.depositId);
    expect(listed).to.deep.equal([m]);
  });

  it("finds a recipient's contact entry, and no one else's", async () => {
    const now = new Date().toISOString();
    const contact = { id: randomUUID(), recipientType: 'enterprise' as const, recipientId: '0203201340', phone: '+32470123456', language: 'fr', timeZone: 'Europe/Brussels', createdAt: now, updatedAt: now };
    await svc.rt.store.contacts.insert(contact);
    expect(await svc.rt.store.contacts.findByRecipient('enterprise', '0203201340')).to.deep.equal(contact);
    expect(await svc.rt.store.contacts.findByRecipient('citizen', '0203201340')).to.equal(undefined);
    await svc.rt.store.contacts.update(contact.id, { phone: null, language: 'nl', timeZone: null });
    const updated = await svc.rt.store.transaction((tx) => tx.contacts.findByRecipient('enterprise', '0203201340'));
    expect(updated).to.deep.equal({ ...contact, phone: null, language: 'nl', timeZone: null, updatedAt: updated!.updatedAt });
    expect(updated!.updatedAt >= now).to.equal(true);
  });
  it("gives the place and digest of a message's newest proof, which the next one chains from; nothing for a message without", async () => {
    const { apiKey } = await svc.newSender();
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(2000, 7) }]);
    expect(res.status).to.equal(201);
    const { id } = (await res.json()) as { id: string };
    // accepted at intake, then deposited: two proofs
    const deadline = Date.now() + 30_000;
    let proofs = await svc.rt.store.evidence.listForMessage(id);
    while (proofs.length < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      proofs = await svc.rt.store.evidence.listForMessage(id);
    }
    expect(proofs.map((p) => p.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    expect(await svc.rt.store.evidence.chainHead(id)).to.deep.equal({ seq: proofs[1]!.seq, sha256: proofs[1]!.sha256 });
    // the second proof's statement names the first one's digest
    expect(proofs[1]!.statement).to.contain(proofs[0]!.sha256);
    expect(await svc.rt.store.evidence.chainHead(randomUUID())).to.equal(undefined);
  });
});
