/**
 * The SQL statements of one sealed submission, counted at the drivers (test/helpers/statements.ts:
 * every statement the database is sent, BEGIN, COMMIT, SAVEPOINT and RELEASE included).
 *
 * What is counted is everything between a letter's POST /v1/messages (100 KB, one document,
 * a reachable recipient) and its 201 carrying the SubmissionAcceptance proof:
 *
 * - the sender's API key with its sender, one join (requireSender);
 * - intake: the transaction that writes the message, its document, its first event and the
 *   `accept` job (inserted already claimed by the local runner, so no claim follows);
 * - proof and status: the `accept` job — the message with what its statement names (sender,
 *   documents), whether the recipient's e-Box is reachable (the built-in e-Box's table), then
 *   the transaction that moves the message to ACCEPTED, inserts the proof and its place in the
 *   RFC 4998 queue, its event, the `deposit` job that takes the letter on, and completes the
 *   `accept` job;
 * - the answer: the message's proofs and callbacks, which the 201 carries (the message itself
 *   as the intake wrote it and as the proof's job announced it, its documents as the intake
 *   wrote them: not read again).
 *
 * That is the whole path: nothing else runs SQL for a letter before its 201. The `deposit` job
 * the proof enqueues runs after the answer (the e-Box deposit and its ContentConsignment proof
 * are not part of the submission's reply); here a runner that takes only `accept` jobs works,
 * so the deposit stays pending and out of the counted window. The runner's polls and lease
 * renewals are made rare (one poll at its start, before the window), so the window holds the
 * submissions' statements only.
 *
 * Letters go one at a time, then 8 at a time. Two kinds of statement depend on timing, not
 * on the code's path, and are counted and printed apart:
 * - on SQLite, transactions that arrive together share one commit, each in its own savepoint
 *   (src/store/CommitGroup.ts): SAVEPOINT and RELEASE, 2 per transaction so grouped, at most
 *   4 per letter;
 * - a submission whose proof is still on its way reads its message every 250 ms
 *   (SubmissionService.waitForDecision): on a busy machine sealing can take that long.
 * The bound is on the rest, which is the same for every letter.
 */
import { expect } from 'chai';
import { createLogger } from '../../src/logger.js';
import { JOB_PAYLOADS } from '../../src/store/jobs.js';
import { JobRunner } from '../../src/worker/JobRunner.js';
import { onPostgres } from '../helpers/database.js';
import { metadata, pdfBytes, startTestService, submit, type TestService } from '../helpers/service.js';
import { countStatements, type StatementCounter } from '../helpers/statements.js';

/**
 * The most statements one sealed submission may take, savepoints and waiting re-reads apart:
 * what the code takes today (SQLite 21; PostgreSQL 23: the blob fence's shared lock in the
 * intake and the event log's lock in each transaction that writes events), so that a change
 * that adds one fails here. The aim is 12 (docs/scaling.md says what that would take).
 */
const MAX_STATEMENTS_PER_SUBMISSION = onPostgres ? 23 : 21;
/** SAVEPOINT and RELEASE of the intake's and the proof's transactions when each shares its commit */
const MAX_SAVEPOINT_STATEMENTS_PER_SUBMISSION = onPostgres ? 0 : 4;
/** the statement SubmissionService.waitForDecision reads the message with (nothing else on the path reads it so) */
const WAITING_READ = /^select \* from [`"]messages[`"] where [`"]id[`"] = (\?|\$1) limit (\?|\$2)$/i;
const SAVEPOINT = /^(SAVEPOINT|RELEASE|ROLLBACK TO)\b/i;
const DOCUMENT_BYTES = 100 * 1024;

describe(`statements per sealed submission (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, function () {
  this.timeout(120_000);
  let svc: TestService;
  let runner: JobRunner;
  let apiKey: string;
  let counter: StatementCounter | undefined;
  let letter = 0;

  before(async () => {
    // no worker of the service's own: a runner taking `accept` jobs only (see the doc comment)
    svc = await startTestService({ WORKER_POLL_MS: '60000', JOB_LEASE_MS: '3600000' }, { worker: false });
    runner = new JobRunner(
      svc.rt.store,
      JOB_PAYLOADS,
      { accept: svc.rt.delivery.handlers().accept },
      { concurrency: 32, pollMs: 60_000, leaseMs: 3_600_000, backoff: { baseMs: 20, maxMs: 200 } },
      createLogger('silent'),
    );
    runner.adoptLocalJobs();
    runner.start();
    ({ apiKey } = await svc.newSender());
    await svc.newRecipient('citizen', '85073003328');
    // one letter before counting: the runner's first poll, the API key's last-use write and
    // the statements' first preparation are behind us
    await sealed();
  });

  after(async () => {
    counter?.stop();
    await runner?.stop();
    await svc?.close();
  });

  afterEach(() => {
    counter?.stop();
    counter = undefined;
  });

  /** submits one letter; resolves with its 201 body once it holds the SubmissionAcceptance proof */
  async function sealed(): Promise<void> {
    const res = await submit(svc, apiKey, metadata(), [{ name: 'main', content: pdfBytes(DOCUMENT_BYTES, ++letter) }]);
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).to.equal(201);
    expect(body.status).to.equal('ACCEPTED');
    expect(body.evidence.map((e: { type: string }) => e.type)).to.deep.equal(['SubmissionAcceptance']);
  }

  interface PerLetter {
    /** every statement but the two kinds below */
    path: number;
    savepoints: number;
    waitingReads: number;
  }

  async function perSubmission(letters: number, together: number): Promise<PerLetter> {
    counter = countStatements();
    for (let i = 0; i < letters; i += together) await Promise.all(Array.from({ length: Math.min(together, letters - i) }, () => sealed()));
    const texts = [...counter.texts];
    counter.stop();
    counter = undefined;
    const savepoints = texts.filter((t) => SAVEPOINT.test(t)).length;
    const waitingReads = texts.filter((t) => WAITING_READ.test(t)).length;
    const path = texts.length - savepoints - waitingReads;
    if (process.env.STATEMENTS_LIST) console.log(texts.slice(0, Math.ceil(texts.length / letters) + 4).join('\n'));
    console.log(
      `      ${letters} letters, ${together} at a time: ${texts.length} statements, ${(texts.length / letters).toFixed(2)} per sealed submission ` +
        `(${savepoints} SAVEPOINT/RELEASE, ${waitingReads} reads while waiting for a proof)`,
    );
    return { path: path / letters, savepoints: savepoints / letters, waitingReads: waitingReads / letters };
  }

  it(`takes ${MAX_STATEMENTS_PER_SUBMISSION} statements per letter, one letter at a time`, async () => {
    const n = await perSubmission(20, 1);
    expect(n.path).to.be.at.most(MAX_STATEMENTS_PER_SUBMISSION);
    // a transaction alone commits without a savepoint
    expect(n.savepoints).to.equal(0);
  });

  it(`takes ${MAX_STATEMENTS_PER_SUBMISSION} statements per letter (and the savepoints of shared commits), 8 letters at a time`, async () => {
    const n = await perSubmission(32, 8);
    expect(n.path).to.be.at.most(MAX_STATEMENTS_PER_SUBMISSION);
    expect(n.savepoints).to.be.at.most(MAX_SAVEPOINT_STATEMENTS_PER_SUBMISSION);
  });
});
