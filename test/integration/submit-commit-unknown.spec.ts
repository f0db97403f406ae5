/**
 * A submission whose transaction reports a failure may still have committed: its COMMIT
 * reached the database and the answer was lost with the connection. The intake must not
 * take the document bytes away then — the client retries with its Idempotency-Key and is
 * answered with that message, which would have no bytes. Found by the postgres-outage
 * fault campaign (test/faults), cutting PostgreSQL as a submission's COMMIT was answered.
 * And when the transaction did not commit, the bytes still go: once the database can say
 * that no row names them.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { onPostgres } from '../helpers/database.js';
import { shardOf } from '../../src/store/FsBlobStore.js';
import { blobFiles, metadata, pdfBytes, startTestService, submit, VALID_INSZ, type TestService } from '../helpers/service.js';

const connectionLost = () => Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe(`a submission whose commit was not answered (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(60_000);
  let svc: TestService;
  let key: string;
  before(async () => {
    svc = await startTestService();
    key = (await svc.newSender()).apiKey;
    await svc.newRecipient('citizen', VALID_INSZ);
  });
  after(async () => svc?.close());

  it('keeps the bytes of a transaction that did commit: the retry with the same key finds its message whole', async () => {
    const store = svc.rt.store;
    const commitWithBlobs = store.commitWithBlobs.bind(store);
    // the transaction commits; the caller is told the connection went away
    store.commitWithBlobs = async (place, work) => {
      await commitWithBlobs(place, work);
      throw connectionLost();
    };
    const doc = pdfBytes(40_000, 31);
    const idempotencyKey = randomUUID();
    let first: Response;
    try {
      first = await submit(svc, key, metadata(), [{ name: 'main', content: doc }], { 'idempotency-key': idempotencyKey });
    } finally {
      store.commitWithBlobs = commitWithBlobs;
    }
    // told to come back (503), or — the database answering again at once — the message it made
    expect(first.status).to.be.oneOf([201, 202, 503]);
    await first.arrayBuffer();

    const again = await submit(svc, key, metadata(), [{ name: 'main', content: doc }], { 'idempotency-key': idempotencyKey });
    expect(again.status).to.be.oneOf([201, 202]);
    expect(again.headers.get('idempotent-replayed'), 'one message for the two tries').to.equal('true');
    const { id } = await again.json();
    const [stored] = await store.messages.documents(id);
    const file = path.join(svc.dataDir, 'blobs', 'objects', shardOf(stored!.blobKey), stored!.blobKey);
    expect(fs.existsSync(file), 'the acknowledged document has its bytes').to.equal(true);
    expect(sha256(fs.readFileSync(file))).to.equal(sha256(doc));
  });

  /**
   * Runs `body` while intakes put their bytes in place and then lose the connection before a
   * row is written, and the database answers the look at those bytes (the blob sweep's check)
   * only when `answers()` says so; `looks()` counts the looks.
   */
  async function withUnwrittenIntakes(answers: () => boolean, body: (looks: () => number) => Promise<void>): Promise<void> {
    const store = svc.rt.store;
    const commitWithBlobs = store.commitWithBlobs.bind(store);
    const underBlobSweep = store.underBlobSweep.bind(store);
    let looks = 0;
    store.commitWithBlobs = async (place) => {
      await place();
      throw connectionLost();
    };
    store.underBlobSweep = async (work) => {
      looks++;
      if (!answers()) throw connectionLost();
      return underBlobSweep(work);
    };
    try {
      await body(() => looks);
    } finally {
      store.commitWithBlobs = commitWithBlobs;
      store.underBlobSweep = underBlobSweep;
    }
  }

  it('removes the bytes of a transaction that did not commit, once the database can tell', async () => {
    const before = new Set(blobFiles(svc.dataDir).objects);
    // the database does not answer for a while
    let unanswered = 2;
    await withUnwrittenIntakes(
      () => !(unanswered-- > 0),
      async () => {
        const res = await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(30_000, 32) }]);
        expect(res.status).to.equal(503);
        const placed = blobFiles(svc.dataDir).objects.filter((f) => !before.has(f));
        expect(placed, 'kept while the database cannot say whether a row names it').to.have.length(1);
        const deadline = Date.now() + 20_000;
        while (fs.existsSync(placed[0]!)) {
          expect(Date.now(), 'removed once the database says no row names it').to.be.below(deadline);
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(unanswered).to.be.below(0);
        expect(blobFiles(svc.dataDir).temp).to.deep.equal([]);
      },
    );
  });

  // last: the intake of this service is closed after it
  it('looks once more, as the service stops, at the bytes still waiting for the database to tell', async () => {
    const before = new Set(blobFiles(svc.dataDir).objects);
    // the database does not answer until the service stops
    let answering = false;
    await withUnwrittenIntakes(
      () => answering,
      async (looks) => {
        const res = await submit(svc, key, metadata(), [{ name: 'main', content: pdfBytes(30_000, 33) }]);
        expect(res.status).to.equal(503);
        const placed = blobFiles(svc.dataDir).objects.filter((f) => !before.has(f));
        expect(placed).to.have.length(1);
        answering = true;
        const looksBefore = looks();
        await svc.rt.submissions.close();
        expect(looks(), 'looked at as the intake closed').to.equal(looksBefore + 1);
        expect(fs.existsSync(placed[0]!), 'removed as the intake closed').to.equal(false);
      },
    );
  });
});
