/**
 * The built-in e-Box's deposit, the contact lookup of a registered letter's notice and the head
 * of a message's chain of proofs run as prepared statements (src/store/Prepared.ts): what they store and read back is what the
 * records say, on the test database (SQLite, or PostgreSQL with TEST_DATABASE_URL). And the rows
 * a letter writes are named by UUIDs of version 7 (src/domain/RowId.ts), in the order they were made.
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

  it('names the rows of letters made one after the other in that order (UUID version 7): messages, documents, proofs, deposits', async () => {
    const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const { apiKey } = await svc.newSender();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const meta = metadata({ senderReference: `ORDER-${i}` }, [{ httpPartName: 'main', isMainContent: true }, { httpPartName: 'annex' }]);
      const res = await submit(svc, apiKey, meta, [{ name: 'main', content: pdfBytes(1500, i) }, { name: 'annex', content: pdfBytes(1200, 10 + i) }]);
      expect(res.status).to.equal(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const ascending = (xs: string[]) => expect(xs, xs.join(' ')).to.deep.equal([...xs].sort()).and.to.satisfy((a: string[]) => new Set(a).size === a.length);
    for (const id of ids) expect(id).to.match(V7);
    ascending(ids);
    // each letter's documents, in their order; then the next letter's
    const documents = (await Promise.all(ids.map((id) => svc.rt.store.messages.documents(id)))).flatMap((ds) => [...ds].sort((a, b) => a.position - b.position).map((d) => d.id));
    expect(documents).to.have.length(6);
    for (const d of documents) expect(d).to.match(V7);
    ascending(documents);
    // each letter's two proofs (accepted at intake, then deposited); the deposits come later
    const deadline = Date.now() + 30_000;
    const proofs = async () => Promise.all(ids.map((id) => svc.rt.store.evidence.listForMessage(id)));
    let all = await proofs();
    while (all.some((p) => p.length < 2) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      all = await proofs();
    }
    const acceptances = all.map((p) => p[0]!.id);
    for (const p of all.flat()) expect(p.id).to.match(V7);
    ascending(acceptances);
    for (const p of all) ascending(p.map((e) => e.id));
    // the built-in e-Box's entries (a deposit's id is its message's)
    const entries = (await svc.rt.store.ebox.listMailbox('citizen', VALID_INSZ, 100)).filter((e) => ids.includes(e.depositId));
    expect(entries).to.have.length(3);
    for (const e of entries) expect(e.id).to.match(V7);
  });
});
