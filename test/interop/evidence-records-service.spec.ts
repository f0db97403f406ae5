/**
 * The evidence records the running service serves, judged by others: Bouncy Castle's own RFC
 * 4998 classes (test/fixtures/crypto/bouncycastle/VerifyEvidenceRecord.java) validate the
 * record of every proof of a message for that proof's SHA-256 — first as made, then renewed
 * unattended by a second TSA — and re-encode it byte for byte; `openssl ts -verify -digest
 * <root>` accepts each tree's archive time-stamp over the root stored for it, and refuses it
 * over another value; after a restart with RECORD_HASH_ALGORITHM=SHA-512, Bouncy Castle
 * validates the hash-tree-renewed records (two chains) for each proof's bytes, and OpenSSL the
 * renewal tree's SHA-512 token over its root. Needs a JDK, libbcpkix-java and OpenSSL; fails,
 * never skips, without them. Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import { createDevPki, derToPem, type DevPki } from '../../src/crypto/index.js';
import { parseEvidenceRecord } from '../../src/crypto/EvidenceRecord.js';
import { compileBouncyCastleEvidenceRecordVerifier, type BcEvidenceRecordVerifier } from '../helpers/bouncycastle.js';
import { onPostgres } from '../helpers/database.js';
import { startRecordTsa, type RecordTsa } from '../helpers/record-tsa.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';
import { openssl, opensslOk, tempDir } from '../unit/crypto/helpers.js';

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe(`evidence records served by the service, with Bouncy Castle and OpenSSL (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(180_000);
  let bc: BcEvidenceRecordVerifier;
  let dir: string;
  let svc: TestService;
  /** the service before the restart with another hash algorithm (its database kept for it) */
  let firstService: TestService | undefined;
  let tsa: RecordTsa;
  let first: DevPki;
  let second: DevPki;
  let firstRoot: string;
  let bothRoots: string;
  let sender: { apiKey: string };
  let messageId: string;
  let n = 0;

  const write = async (name: string, bytes: Uint8Array | string) => {
    const file = path.join(dir, `${++n}-${name}`);
    await fs.writeFile(file, bytes);
    return file;
  };

  /** Every proof of the message with the record the service serves for it (waiting for the next tree). */
  async function served(): Promise<{ name: string; proof: Uint8Array; record: Uint8Array }[]> {
    const proofs = await svc.rt.store.evidence.listForMessage(messageId);
    const out = [];
    for (const p of proofs) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const res = await fetch(`${svc.url}/v1/messages/${messageId}/evidence/${p.id}/record`, { headers: { authorization: `Bearer ${sender.apiKey}` } });
        if (res.status === 200) {
          out.push({ name: `${p.seq}-${p.type}`, proof: p.der, record: new Uint8Array(await res.arrayBuffer()) });
          break;
        }
        expect(res.status).to.equal(404);
        if (Date.now() > deadline) throw new Error(`no record for ${p.type}`);
        await sleep(50);
      }
    }
    return out;
  }

  before(async () => {
    bc = await compileBouncyCastleEvidenceRecordVerifier();
    dir = await tempDir('ers-service-interop-');
    // the first TSA's certificate expires in three hours (leaf certificates last ten years)
    const start = new Date();
    start.setUTCFullYear(start.getUTCFullYear() - 10);
    first = await createDevPki('ECDSA-P256', { now: new Date(start.getTime() + 3 * HOUR), crlUrl: null });
    second = await createDevPki('ECDSA-P256', { crlUrl: null });
    firstRoot = await write('first-root.pem', derToPem(first.root.certificate, 'CERTIFICATE'));
    bothRoots = `${firstRoot},${await write('second-root.pem', derToPem(second.root.certificate, 'CERTIFICATE'))}`;
    tsa = await startRecordTsa(first.tsa);
    svc = firstService = await startTestService({ TSA_URL: tsa.url, RECORD_INTERVAL_MS: '200', RECORD_RENEW_INTERVAL_MS: '200' }, { keepData: true });
    await svc.newRecipient('citizen', VALID_INSZ);
    sender = await svc.newSender('Interop records');
    const res = await submit(svc, sender.apiKey, metadata(), [{ name: 'main', content: pdfBytes(4000, 3) }]);
    messageId = (await res.json()).id;
    await waitForMessage(svc, sender.apiKey, messageId, (m) => m.status === 'DEPOSITED');
  });
  after(async () => {
    await bc?.close();
    await svc?.close();
    if (firstService && svc === firstService) {
      await firstService.database.drop();
      await fs.rm(firstService.dataDir, { recursive: true, force: true });
    }
    await tsa?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("Bouncy Castle validates each served record for its proof's digest, and refuses it for another digest", async () => {
    const records = await served();
    expect(records.length).to.be.at.least(2);
    const inputs = await Promise.all(records.map(async (r) => ({ file: await write(`${r.name}.ers`, r.record), leaf: sha256(r.proof) })));
    const ok = await bc.verify(firstRoot, inputs);
    expect(ok.results, ok.out).to.have.length(records.length);
    for (const r of ok.results) expect(r.ok, `${r.file}: ${r.code} ${r.reason}\n${ok.out}`).to.equal(true);
    const wrong = sha256(new TextEncoder().encode('not a proof of this service'));
    const refused = await bc.verify(firstRoot, [{ file: inputs[0]!.file, leaf: wrong }]);
    expect(refused.results[0]).to.include({ ok: false });
  });

  it('openssl ts -verify -digest <root> accepts each tree’s time-stamp over its stored root', async () => {
    const trees = await svc.rt.store.db('record_trees').select('id', 'root');
    expect(trees.length).to.be.at.least(1);
    const tsaFile = await write('tsa.pem', derToPem(first.tsa.certificate, 'CERTIFICATE'));
    let checked = 0;
    for (const t of trees) {
      const [token] = await svc.rt.store.recordTrees.tokens(t.id);
      if (!token) continue; // a tree claimed a moment ago, its time-stamp under way
      checked++;
      const tokenFile = await write('token.der', token.token);
      await opensslOk(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', t.root, '-CAfile', firstRoot, '-untrusted', tsaFile]);
      const other = Buffer.from(t.root, 'hex');
      other[0]! ^= 1;
      const refused = await openssl(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', other.toString('hex'), '-CAfile', firstRoot, '-untrusted', tsaFile]);
      expect(refused.code, 'openssl accepted a token for another root').to.not.equal(0);
    }
    // the trees of the message's proofs at least
    expect(checked).to.be.at.least(1);
  });

  it('Bouncy Castle validates the records renewed unattended by a second TSA, trusting both roots', async () => {
    tsa.use(second.tsa);
    let records = await served();
    const deadline = Date.now() + 20_000;
    while (!records.every((r) => parseEvidenceRecord(r.record).chains[0]!.length === 2)) {
      if (Date.now() > deadline) throw new Error('the records were not renewed');
      await sleep(100);
      records = await served();
    }
    const inputs = await Promise.all(records.map(async (r) => ({ file: await write(`${r.name}-renewed.ers`, r.record), leaf: sha256(r.proof) })));
    const result = await bc.verify(bothRoots, inputs);
    expect(result.results, result.out).to.have.length(records.length);
    for (const r of result.results) expect(r.ok, `${r.file}: ${r.code} ${r.reason}\n${result.out}`).to.equal(true);
    // the renewal's token over the hash of the first one, as RFC 4998 §5.2 asks
    const chain = parseEvidenceRecord(records[0]!.record).chains[0]!;
    const renewalFile = await write('renewal.der', chain[1]!.timeStamp);
    const secondRoot = bothRoots.split(',')[1]!;
    const secondTsa = await write('tsa2.pem', derToPem(second.tsa.certificate, 'CERTIFICATE'));
    await opensslOk(['ts', '-verify', '-token_in', '-in', renewalFile, '-digest', hex(sha256(chain[0]!.timeStamp)), '-CAfile', secondRoot, '-untrusted', secondTsa]);
  });

  it('Bouncy Castle validates the records the service renews to SHA-512 after a restart with RECORD_HASH_ALGORITHM=SHA-512', async () => {
    const reuse = { dataDir: firstService!.dataDir, database: firstService!.database };
    await firstService!.close();
    svc = await startTestService({ TSA_URL: tsa.url, RECORD_INTERVAL_MS: '200', RECORD_RENEW_INTERVAL_MS: '200', RECORD_HASH_ALGORITHM: 'SHA-512' }, { reuse });
    let records = await served();
    const deadline = Date.now() + 20_000;
    while (!records.every((r) => parseEvidenceRecord(r.record).chains.length === 2)) {
      if (Date.now() > deadline) throw new Error('the records were not renewed to SHA-512');
      await sleep(100);
      records = await served();
    }
    const inputs = await Promise.all(records.map(async (r) => ({ file: await write(`${r.name}-sha512.ers`, r.record), dataFile: await write(`${r.name}.p7s`, r.proof) })));
    const result = await bc.verify(bothRoots, inputs);
    expect(result.results, result.out).to.have.length(records.length);
    for (const r of result.results) expect(r.ok, `${r.file}: ${r.code} ${r.reason}\n${result.out}`).to.equal(true);
    // and refused for another proof's bytes (not the first chain's sibling, which the record names)
    const sibling = parseEvidenceRecord(records[0]!.record).chains[0]![0]!.lists?.[0]?.map(hex) ?? [];
    const other = records.find((r) => r !== records[0] && !sibling.includes(hex(sha256(r.proof))));
    if (other) {
      const refused = await bc.verify(bothRoots, [{ file: inputs[0]!.file, dataFile: inputs[records.indexOf(other)]!.dataFile }]);
      expect(refused.results[0], refused.out).to.include({ ok: false });
    }
    // the renewal tree's token over its SHA-512 root, for OpenSSL
    const trees = await svc.rt.store.db('record_trees').where({ algorithm: 'SHA-512' }).select('id', 'root');
    expect(trees.length).to.be.at.least(1);
    const tokenOf = async (id: string) => (await svc.rt.store.recordTrees.tokens(id))[0];
    const stamped = (await Promise.all(trees.map(async (t: { id: string; root: string }) => ({ ...t, token: await tokenOf(t.id) })))).filter((t) => t.token);
    expect(stamped.length).to.be.at.least(1);
    const tokenFile = await write('sha512-token.der', stamped[0]!.token!.token);
    const secondRoot = bothRoots.split(',')[1]!;
    const tsaFile = await write('tsa-sha512.pem', derToPem(second.tsa.certificate, 'CERTIFICATE'));
    await opensslOk(['ts', '-verify', '-token_in', '-in', tokenFile, '-digest', stamped[0]!.root, '-CAfile', secondRoot, '-untrusted', tsaFile]);
  });
});
