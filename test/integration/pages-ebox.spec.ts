/**
 * The citizen's e-Box page (/ebox), signed in through the development provider: the letters
 * of the citizen's INSZ/NISS only, newest first, in the page's language; a letter's documents
 * and proofs; a download records the handover exactly as the recipient API does (one
 * ContentHandover, which the sender then reads through its API); another citizen's letter is
 * not found. SQLite, or PostgreSQL with TEST_DATABASE_URL.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { CITIZEN_WITHOUT_EBOX, DEV_CITIZEN, OTHER_CITIZEN, PageClient, signIn, startPagesWorld, type PagesWorld } from '../helpers/pages.js';
import { metadata, pdfBytes, submit, waitForMessage } from '../helpers/service.js';

describe(`pages: the citizen's e-Box (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let w: PagesWorld;
  let sender: { id: string; apiKey: string };
  const letters: Array<{ id: string; doc: Uint8Array }> = [];

  const send = async (insz: string, subject: Record<string, string>, seed: number) => {
    const doc = pdfBytes(5000 + seed, seed);
    const res = await submit(w.svc, sender.apiKey, metadata({ recipient: { type: 'citizen', id: insz }, subject }), [{ name: 'main', content: doc, fileName: `decision-${seed}.pdf` }]);
    expect(res.status, await res.clone().text()).to.be.oneOf([201, 202]);
    const { id } = await res.json();
    await waitForMessage(w.svc, sender.apiKey, id, (m) => m.status === 'DEPOSITED' && m.evidence.some((e: { type: string }) => e.type === 'ContentConsignment'));
    return { id, doc };
  };

  before(async () => {
    w = await startPagesWorld();
    sender = await w.svc.newSender('City of Ghent');
    await w.svc.newRecipient('citizen', DEV_CITIZEN.insz!);
    await w.svc.newRecipient('citizen', OTHER_CITIZEN.insz!);
    letters.push(await send(DEV_CITIZEN.insz!, { nl: 'Uw bouwvergunning', fr: 'Votre permis de bâtir' }, 1));
    letters.push(await send(DEV_CITIZEN.insz!, { de: 'Ihr Steuerbescheid <b>2026</b>' }, 2));
    letters.push(await send(OTHER_CITIZEN.insz!, { nl: 'Brief voor iemand anders' }, 3));
  });
  after(async () => {
    await w?.close();
  });

  const rowsOf = (body: string) => [...body.matchAll(/<tr><th scope="row"><a href="\/ebox\/([0-9a-f-]{36})">([^<]*)<\/a><\/th><td>([^<]*)<\/td>.*?class="state state-(\w+)"/g)].map((m) => ({ entry: m[1]!, subject: m[2]!, sender: m[3]!, state: m[4]! }));

  it('lists the citizen\'s letters only, newest first, subject in the page\'s language (else the first given), escaped', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, DEV_CITIZEN, '/ebox?lang=nl');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('<html lang="nl">');
    const rows = rowsOf(page.body);
    expect(rows.map((r) => r.subject)).to.deep.equal(['Ihr Steuerbescheid &lt;b&gt;2026&lt;/b&gt;', 'Uw bouwvergunning']);
    expect(rows.every((r) => r.sender === 'City of Ghent' && r.state === 'new')).to.equal(true);
    expect(page.body).not.to.include('iemand anders');
    const fr = await c.request(`${w.svc.url}/ebox?lang=fr`);
    expect(rowsOf(fr.body).map((r) => r.subject)).to.include('Votre permis de bâtir');
    expect(fr.body).to.include('<html lang="fr">');
    // the language is remembered
    const again = await c.request(`${w.svc.url}/ebox`);
    expect(again.body).to.include('<html lang="fr">');
    expect(again.headers.get('content-security-policy')).to.match(/^default-src 'none'; style-src 'self'/);
    expect(again.headers.get('cache-control')).to.equal('no-store');
  });

  it('opens a letter: documents and proofs (DER and a PDF receipt in the page\'s language); the download records one handover, which the sender then gets', async () => {
    const c = new PageClient();
    const list = await signIn(c, w, DEV_CITIZEN, '/ebox?lang=de');
    const row = rowsOf(list.body).find((r) => r.subject === 'Uw bouwvergunning')!;
    const letter = await c.request(`${w.svc.url}/ebox/${row.entry}`);
    expect(letter.status).to.equal(200);
    expect(letter.body).to.include('<h1>Uw bouwvergunning</h1>');
    expect(letter.body).to.include('decision-1.pdf');
    expect(letter.body).to.include('In Ihre e-Box zugestellt'); // the ContentConsignment proof, in German
    const pdfHref = /href="(\/ebox\/[^"]+\/receipt\.pdf\?lang=de)"/.exec(letter.body)![1]!;
    const derHref = /href="(\/ebox\/[^"]+\/proofs\/[0-9a-f-]{36})"/.exec(letter.body)![1]!;
    const der = await fetch(`${w.svc.url}${derHref}`, { headers: { cookie: `rm_session=${c.cookie('rm_session')!.value}` } });
    expect(der.status).to.equal(200);
    expect(der.headers.get('content-type')).to.match(/^application\/pkcs7-mime/);
    const pdf = await fetch(`${w.svc.url}${pdfHref}`, { headers: { cookie: `rm_session=${c.cookie('rm_session')!.value}` } });
    expect(pdf.status).to.equal(200);
    expect(pdf.headers.get('content-language')).to.equal('de');
    expect(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString()).to.equal('%PDF-');

    const docHref = /href="(\/ebox\/[^"]+\/documents\/0)"/.exec(letter.body)![1]!;
    for (let i = 0; i < 2; i++) {
      const doc = await fetch(`${w.svc.url}${docHref}`, { headers: { cookie: `rm_session=${c.cookie('rm_session')!.value}` } });
      expect(doc.status).to.equal(200);
      expect(doc.headers.get('content-disposition')).to.include('decision-1.pdf');
      expect(Buffer.from(await doc.arrayBuffer()).equals(Buffer.from(letters[0]!.doc))).to.equal(true);
    }
    const consulted = await waitForMessage(w.svc, sender.apiKey, letters[0]!.id, (m) => m.status === 'CONSULTED' && m.evidence.some((e: { type: string }) => e.type === 'ContentHandover'));
    expect(consulted.evidence.filter((e: { type: string }) => e.type === 'ContentHandover')).to.have.length(1);
    expect(consulted.events.filter((e: { type: string }) => e.type === 'DocumentOpened')).to.have.length(1);
    const after = await c.request(`${w.svc.url}/ebox?lang=en`);
    expect(rowsOf(after.body).find((r) => r.entry === row.entry)!.state).to.equal('opened');
    const reopened = await c.request(`${w.svc.url}/ebox/${row.entry}`);
    expect(reopened.body).to.include('Received by you');
  });

  it('another citizen\'s letter is not found (404 page), whatever is asked of it; so is a letter that does not exist', async () => {
    const owner = new PageClient();
    const theirs = rowsOf((await signIn(owner, w, OTHER_CITIZEN, '/ebox')).body)[0]!.entry;
    const c = new PageClient();
    await signIn(c, w, DEV_CITIZEN, '/ebox');
    const missing = await c.request(`${w.svc.url}/ebox/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).to.equal(404);
    for (const p of [`/ebox/${theirs}`, `/ebox/${theirs}/documents/0`, `/ebox/${theirs}/proofs/00000000-0000-4000-8000-000000000000`, `/ebox/${theirs}/proofs/00000000-0000-4000-8000-000000000000/receipt.pdf`, '/ebox/not-an-id', `/ebox/${theirs}/documents/x`]) {
      const page = await c.request(`${w.svc.url}${p}`);
      expect(page.status, p).to.equal(404);
      expect(page.headers.get('content-type'), p).to.match(/^text\/html/);
      expect(page.body, p).to.include('data-code="NOT_FOUND"');
      expect(page.body, p).not.to.include('iemand anders');
    }
    // the same page as for a letter that does not exist, but for the address in its language links
    expect(missing.body.replaceAll('00000000-0000-4000-8000-000000000000', 'ID')).to.equal((await c.request(`${w.svc.url}/ebox/${theirs}`)).body.replaceAll(theirs, 'ID'));
    // and the owner's letter was not opened by any of that
    const m = await (await fetch(`${w.svc.url}/v1/messages/${letters[2]!.id}`, { headers: { authorization: `Bearer ${sender.apiKey}` } })).json();
    expect(m.status).to.equal('DEPOSITED');
  });

  it('a citizen without an e-Box here sees that, and no letter', async () => {
    const c = new PageClient();
    const page = await signIn(c, w, CITIZEN_WITHOUT_EBOX, '/ebox');
    expect(page.status).to.equal(200);
    expect(page.body).to.include('no activated e-Box');
    expect(rowsOf(page.body)).to.deep.equal([]);
    expect((await c.request(`${w.svc.url}/ebox/${rowsOf((await signIn(new PageClient(), w, DEV_CITIZEN, '/ebox')).body)[0]!.entry}`)).status).to.equal(404);
  });
});
