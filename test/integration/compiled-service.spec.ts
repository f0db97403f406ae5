/**
 * The production path: the compiled service (`node dist/src/cli/server.js`, what `npm start`
 * runs, built fresh by test/helpers/build.ts) sealing in worker threads (SEAL_THREADS=1 and 2),
 * driven over HTTP: messages through acceptance, deposit and handover, a rejection, every proof
 * checked by OpenSSL and by the compiled auditor CLI; a burst of concurrent submissions all
 * sealed; SIGTERM while clients keep submitting stops it cleanly (no job left running), and a
 * restart finishes the rest. Most other tests run the sources under tsx, where the service seals
 * in the main thread.
 */
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config.js';
import { SIMULATOR_DEFAULT_CLIENT, startEboxSimulator, type RunningEboxSimulator } from '../../dev/ebox-simulator/EboxSimulator.js';
import { openDatabase } from '../../src/store/database.js';
import { COMPILED, ensureBuild } from '../helpers/build.js';
import { createTestDatabase, onPostgres, type TestDatabase } from '../helpers/database.js';
import { eventually } from '../helpers/notify.js';
import { openssl } from '../helpers/openssl.js';
import { TEST_CERTS_DIR } from '../helpers/paths.js';
import { kill, startCompiledService, type CompiledServiceProcess } from '../helpers/process.js';
import { FAST_WORKER_ENV, metadata, pdfBytes, submit, VALID_INSZ, VALID_INSZ_2000, VALID_KBO, waitForMessage } from '../helpers/service.js';

const ADMIN = 'admin-token-for-compiled-tests-01';
const EVENT = 'http://uri.etsi.org/19522/Event/';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function node(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe(`the compiled service sealing in worker threads (${onPostgres ? 'PostgreSQL' : 'SQLite'})`, () => {
  before(async function () {
    this.timeout(300_000); // a first build from nothing on a busy machine
    await ensureBuild();
  });

  for (const threads of [1, 2]) {
    describe(`SEAL_THREADS=${threads}`, () => {
      let dataDir: string;
      let db: TestDatabase;
      let env: Record<string, string>;
      let proc: CompiledServiceProcess | undefined;
      let apiKey: string;
      let token: string;
      let rootPem: string;
      let sim: RunningEboxSimulator | undefined;

      const auth = () => ({ authorization: `Bearer ${apiKey}` });

      /** Downloads every proof of the messages into a folder; says what each file is. */
      async function downloadProofs(ids: string[], folder: string): Promise<Array<{ file: string; type: string; messageId: string }>> {
        fs.mkdirSync(folder, { recursive: true });
        const out = [];
        for (const id of ids) {
          const list = await (await fetch(`${proc!.url}/v1/messages/${id}/evidence`, { headers: auth() })).json();
          for (const item of list.items) {
            const der = new Uint8Array(await (await fetch(proc!.url + item.href, { headers: auth() })).arrayBuffer());
            expect(sha256(der)).to.equal(item.sha256);
            const file = path.join(folder, `${item.id}.p7s`);
            fs.writeFileSync(file, der);
            out.push({ file, type: item.type as string, messageId: id });
          }
        }
        return out;
      }

      /** The compiled auditor CLI over a folder: every proof TOTAL_PASSED. */
      async function verifyFolder(folder: string, expected: number): Promise<void> {
        const r = await node([COMPILED.verify, '--dir', folder, '--trust', rootPem, '--json', '--no-progress'], {});
        const reports = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
        expect(reports).to.have.length(expected);
        expect(reports.filter((x) => x.indication !== 'TOTAL_PASSED').map((x) => `${x.file}: ${x.indication}/${x.subIndication}`)).to.deep.equal([]);
        expect(r.code, r.stderr).to.equal(0);
      }

      async function jobsByStatus(): Promise<Record<string, number>> {
        const knex = openDatabase(loadConfig(env).database);
        try {
          const rows: Array<{ status: string; n: number | string }> = await knex('jobs').select('status').count({ n: '*' }).groupBy('status');
          return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
        } finally {
          await knex.destroy();
        }
      }

      before(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rm-compiled-'));
        db = await createTestDatabase(dataDir);
        env = {
          APP_ENV: 'test',
          DATA_DIR: dataDir,
          DATABASE_URL: db.url,
          DEV_CERTS_DIR: TEST_CERTS_DIR,
          SEAL_THREADS: String(threads),
          ADMIN_TOKEN: ADMIN,
          ...FAST_WORKER_ENV,
        };
        // a sender, made by the compiled script before the service starts (it migrates the database)
        const created = await node([COMPILED.createSender, '--name', 'Compiled sender', '--json'], env);
        expect(created.code, created.stderr).to.equal(0);
        apiKey = JSON.parse(created.stdout).apiKey;
        proc = await startCompiledService(env);
        // recipients through the operator API
        const admin = (body: unknown) => fetch(`${proc!.url}/v1/admin/recipients`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const reader = await admin({ type: 'citizen', id: VALID_INSZ, activated: true });
        expect(reader.status).to.equal(201);
        token = (await reader.json()).token;
        expect((await admin({ type: 'enterprise', id: VALID_KBO, activated: false })).status).to.equal(201);
        const listening = proc.logs().find((l) => typeof l.trustAnchor === 'string');
        rootPem = listening!.trustAnchor;
      });
      after(async () => {
        if (proc) await kill(proc);
        await sim?.close();
        await db?.drop();
        if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      });

      it(`says it seals in ${threads} worker thread${threads > 1 ? 's' : ''} with the compiled worker`, () => {
        const line = proc!.logs().find((l) => l.sealing !== undefined);
        expect(line, proc!.output()).to.include({ sealing: 'worker-threads', threads });
        expect(line!.msg).to.contain(COMPILED.sealWorker);
      });

      it('takes messages through acceptance, deposit and handover, rejects one, and every proof passes OpenSSL and the compiled verifier', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          const res = await submit(proc!, apiKey, metadata({ senderReference: `C-${i}` }), [{ name: 'main', content: pdfBytes(5000 + i, 20 + i) }]);
          // 201 with the acceptance sealed, or 202 if sealing took longer than SUBMIT_WAIT_MS on a busy machine
          expect([201, 202]).to.include(res.status);
          ids.push((await res.json()).id);
        }
        for (const id of ids) {
          const m = await waitForMessage(proc!, apiKey, id, (x) => x.status === 'DEPOSITED');
          const dl = await fetch(`${proc!.url}/v1/ebox/messages/${m.eboxMessageId}/documents/0`, { headers: { authorization: `Bearer ${token}` } });
          expect(dl.status).to.equal(200);
          expect(sha256(new Uint8Array(await dl.arrayBuffer()))).to.equal(m.documents[0].sha256);
          await waitForMessage(proc!, apiKey, id, (x) => x.status === 'CONSULTED' && x.evidence.some((e: any) => e.type === 'ContentHandover'));
        }
        const rejected = await submit(proc!, apiKey, metadata({ recipient: { type: 'enterprise', id: VALID_KBO } }), [{ name: 'main', content: pdfBytes(700) }]);
        expect([201, 202]).to.include(rejected.status);
        const rejectedBody = await rejected.json();
        await waitForMessage(proc!, apiKey, rejectedBody.id, (x) => x.status === 'REJECTED');

        const folder = path.join(dataDir, 'proofs-lifecycle');
        const proofs = await downloadProofs([...ids, rejectedBody.id], folder);
        const types = proofs.map((p) => p.type);
        expect(types.filter((t) => t === 'SubmissionAcceptance')).to.have.length(3);
        expect(types.filter((t) => t === 'ContentConsignment')).to.have.length(3);
        expect(types.filter((t) => t === 'ContentHandover')).to.have.length(3);
        expect(types.filter((t) => t === 'SubmissionRejection')).to.have.length(1);
        for (const p of proofs) {
          const r = await openssl(['cms', '-verify', '-cades', '-inform', 'DER', '-in', p.file, '-CAfile', rootPem]);
          expect(r.code, `${p.type}: ${r.stderr}`).to.equal(0);
          const statement = JSON.parse(r.stdout.toString('utf8'));
          expect(statement.ERDSEventId).to.equal(EVENT + p.type);
          expect(statement.MessageIdentifier).to.equal(p.messageId);
        }
        await verifyFolder(folder, proofs.length);
      });

      it('seals a burst of 50 concurrent submissions', async () => {
        const responses = await Promise.all(
          Array.from({ length: 50 }, (_, i) => submit(proc!, apiKey, metadata({ senderReference: `B-${i}` }), [{ name: 'main', content: pdfBytes(2000 + i, 100 + i) }])),
        );
        // 201 with the acceptance sealed, or 202 if it is still on its way: both are durable
        expect(responses.map((r) => r.status).filter((s) => s !== 201 && s !== 202)).to.deep.equal([]);
        const ids: string[] = await Promise.all(responses.map(async (r) => (await r.json()).id));
        expect(new Set(ids).size).to.equal(50);
        for (const id of ids) await waitForMessage(proc!, apiKey, id, (m) => m.status === 'DEPOSITED', 60_000);
        const folder = path.join(dataDir, 'proofs-burst');
        const proofs = await downloadProofs(ids, folder);
        expect(proofs.map((p) => p.type).sort()).to.deep.equal([...Array(50).fill('ContentConsignment'), ...Array(50).fill('SubmissionAcceptance')]);
        await verifyFolder(folder, 100);
      });

      it('stops cleanly on SIGTERM while clients keep submitting on keep-alive connections — every job finished or handed back — and a restart finishes what was accepted', async () => {
        // idle, it stops at once
        await kill(proc!, 'SIGTERM');
        expect(proc!.child.exitCode, proc!.output()).to.equal(0);
        expect(proc!.logs().some((l) => l.shutdown === 'complete')).to.equal(true);

        // now against a remote e-Box that takes its time, so that deposits are under way when the signal comes
        sim = await startEboxSimulator({ latencyMs: 200, recipients: [{ eboxType: 'citizen', id: VALID_INSZ_2000, activated: true }] });
        const remote = {
          ...env,
          EBOX_URL: sim.url,
          EBOX_CLIENT_ID: SIMULATOR_DEFAULT_CLIENT.clientId,
          EBOX_CLIENT_SECRET: SIMULATOR_DEFAULT_CLIENT.clientSecret,
          EBOX_SCOPE: 'ebox:publication',
        };
        proc = await startCompiledService(remote);
        const stopping = proc;

        // four clients submit one request after another (fetch keeps their connections alive),
        // each with an Idempotency-Key, until the service no longer takes their requests
        const requests: Array<{ key: string; status: number; id?: string }> = [];
        const send = (url: string, n: number, key: string) =>
          submit({ url }, apiKey, metadata({ recipient: { type: 'citizen', id: VALID_INSZ_2000 }, senderReference: `K-${n}` }), [{ name: 'main', content: pdfBytes(1000 + n, 500 + n) }], { 'idempotency-key': key }).then(
            async (r) => ({ status: r.status, replayed: r.headers.get('idempotent-replayed') === 'true', id: (await r.json()).id as string | undefined }),
            () => ({ status: 0, replayed: false, id: undefined }), // refused, or cut before an answer: not acknowledged
          );
        let signalled = false;
        const client = async () => {
          while (requests.length < 2000) {
            const n = requests.length;
            const request: { key: string; status: number; id?: string } = { key: randomUUID(), status: -1 };
            requests.push(request);
            const r = await send(stopping.url, n, request.key);
            Object.assign(request, { status: r.status, id: r.id });
            if (r.status === 0 && signalled) return;
          }
        };
        const clients = Array.from({ length: 4 }, () => client());
        await eventually('ten answered submissions', () => requests.filter((r) => r.status > 0).length >= 10 || undefined);
        signalled = true;
        await kill(stopping, 'SIGTERM');
        await Promise.all(clients);
        expect(stopping.child.exitCode, stopping.output()).to.equal(0);
        expect(stopping.logs().some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).to.equal(true);
        expect(stopping.logs().filter((l) => l.level >= 50), 'no error logged while stopping').to.deep.equal([]);
        // it closed its runtime (runner, sealing threads, database) rather than being cut off by its own timer
        expect(stopping.logs().some((l) => l.shutdown === 'complete'), stopping.output().slice(-2000)).to.equal(true);
        // an answered request was accepted, never a server error
        expect(requests.map((r) => r.status).filter((s) => ![0, 201, 202].includes(s))).to.deep.equal([]);
        // the runner finished the jobs it had started and handed back those it had not
        expect((await jobsByStatus()).running ?? 0).to.equal(0);

        sim.state.faults.update({ latencyMs: 0 });
        proc = await startCompiledService(remote);
        expect(proc.logs().find((l) => l.sealing !== undefined)).to.include({ sealing: 'worker-threads', threads });
        // each client retries its unanswered requests with their keys: nothing acknowledged is lost, nothing duplicated
        const ids: string[] = [];
        for (const [n, r] of requests.entries()) {
          if (r.status === 0) {
            const retried = await send(proc.url, n, r.key);
            expect([201, 202]).to.include(retried.status);
            ids.push(retried.id!);
          } else {
            ids.push(r.id!);
          }
        }
        expect(new Set(ids).size).to.equal(requests.length);
        for (const id of ids) await waitForMessage(proc, apiKey, id, (m) => m.status === 'DEPOSITED', 60_000);
        const publications = sim.state.snapshot().publications;
        expect(publications.map((p) => p.idempotencyKey).sort()).to.deep.equal([...ids].sort());
        expect(publications.every((p) => p.storedCount === 1)).to.equal(true);
        const folder = path.join(dataDir, 'proofs-restart');
        const proofs = await downloadProofs(ids, folder);
        expect(proofs).to.have.length(2 * ids.length);
        await verifyFolder(folder, 2 * ids.length);
      });
    });
  }
});
