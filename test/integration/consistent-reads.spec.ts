/**
 * A sender reads a message while its next proof is being recorded: the status and the proofs
 * it is answered with must be of one moment (a CONSULTED message lists its ContentHandover,
 * a DEPOSITED one does not). Chromium met it on PostgreSQL: the message was read DEPOSITED,
 * the handover committed, then the proofs were read with the ContentHandover among them.
 * Here the interleaving is made deterministic: the handover is recorded between the two reads.
 */
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, VALID_INSZ, waitForMessage, type TestService } from '../helpers/service.js';
import { EvidenceService } from '../../src/registered-mail/evidence.js';
import { EvidenceRepository } from '../../src/store/EvidenceRepository.js';
import type { SenderRecord } from '../../src/domain/records.js';

describe(`a message's status and its proofs are read as of one moment (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let sender: SenderRecord;
  let apiKey: string;

  before(async () => {
    svc = await startTestService();
    const s = await svc.newSender();
    apiKey = s.apiKey;
    sender = (await svc.rt.store.senders.findById(s.id))!;
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => {
    await svc?.close();
  });

  async function deposited(): Promise<string> {
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(2_000, 3), fileName: 'letter.pdf' }]);
    expect(res.status).to.equal(201);
    const id = (await res.json()).id as string;
    await waitForMessage(svc, apiKey, id, (m) => m.status === 'DEPOSITED');
    return id;
  }

  it('GET a message while its ContentHandover commits between the reads: DEPOSITED without it, never DEPOSITED with it', async () => {
    const id = await deposited();
    const message = (await svc.rt.store.messages.findById(id))!;
    const evidence = new EvidenceService(svc.rt.store, svc.rt.sealer, svc.rt.config, svc.rt.notifier);
    const handover = await evidence.prepare(message, 'ContentHandover');
    const list = EvidenceRepository.prototype.listForMessage;
    let recorded: Promise<unknown> | undefined;
    EvidenceRepository.prototype.listForMessage = async function (this: EvidenceRepository, messageId: string) {
      EvidenceRepository.prototype.listForMessage = list;
      recorded = svc.rt.store.transaction((tx) => evidence.record(tx, message, handover));
      // PostgreSQL: another connection commits it before this read; SQLite has one connection,
      // which this read holds, so the handover commits after it
      if (onPostgres) await recorded;
      return list.call(this, messageId);
    };
    let view;
    try {
      view = await svc.rt.consult.message(sender, id);
    } finally {
      EvidenceRepository.prototype.listForMessage = list;
    }
    await recorded;
    expect(recorded, 'the handover was recorded during the read').to.not.equal(undefined);
    expect(view.message.status).to.equal('DEPOSITED');
    expect(view.evidence.map((e) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    const after = await svc.rt.consult.message(sender, id);
    expect(after.message.status).to.equal('CONSULTED');
    expect(after.evidence.map((e) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment', 'ContentHandover']);
  });

  it('the answer to a submission, built from the message as last read, is read again when a proof was recorded since', async () => {
    const id = await deposited();
    const now = (await svc.rt.store.messages.findById(id))!;
    const documents = await svc.rt.store.messages.documents(id);
    // the message as the wait for its first proof last read it: ACCEPTED; ContentConsignment came since
    const view = await svc.rt.consult.submitted(sender, { ...now, status: 'ACCEPTED' }, documents);
    expect(view.message.status).to.equal('DEPOSITED');
    expect(view.evidence.map((e) => e.type)).to.deep.equal(['SubmissionAcceptance', 'ContentConsignment']);
    // as last read and still so: answered as it was read
    const same = await svc.rt.consult.submitted(sender, now, documents);
    expect(same.message).to.equal(now);
  });
});
