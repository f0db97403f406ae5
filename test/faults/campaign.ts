/**
 * One fault campaign: a fresh data directory and database, a sender and its recipients,
 * the service processes (supervised: see cluster.ts), the load (load.ts), faults injected
 * by the scenario while the load runs, a recovery measured after each fault, then the drain,
 * a graceful stop of everything and the checker (checker.ts). Scenarios (scenarios.ts) are
 * this skeleton with their own processes, settings and faults.
 *
 * Recovery of a fault: from the moment the fault ends (the kill, the SIGTERM, the cut
 * restored, the room made) until the service accepts again — /readyz answers 200 on every
 * API process and a probe submission is acknowledged — and the backlog has drained: no
 * job left open for a message submitted before the fault ended.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { ensureDevPki, pemToDer } from '../../src/crypto/index.js';
import { RecipientService } from '../../src/registered-mail/recipients.js';
import { createSender } from '../../src/access/senders.js';
import { migrateLatest, openDatabase } from '../../src/store/database.js';
import { FsBlobStore } from '../../src/store/FsBlobStore.js';
import { Repositories } from '../../src/store/Repositories.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { insz } from '../helpers/notify.js';
import { checkCampaign, checkJobs, type CheckOptions } from './checker.js';
import { freePort, ServiceProcess, type Role } from './cluster.js';
import { Load } from './load.js';
import { between, sleep, stream, type Random } from './rng.js';

export type DbKind = 'sqlite' | 'postgres';

export interface RunOptions {
  /** letters the load submits (probes come on top: one per fault) */
  submissions: number;
  seed: number;
  /** the PostgreSQL server's admin URL (a database is created and dropped for each campaign) */
  pgAdminUrl: string;
  /** the development PKI (created once per run) */
  certsDir: string;
  /** 'full': `npm run test:faults`; 'slice': the CI spec, small and quick */
  size: 'full' | 'slice';
  log: (line: string) => void;
}

export interface ScenarioResult {
  scenario: string;
  database: DbKind;
  seed: number;
  /** set when the scenario could not run here, with the reason */
  skipped?: string;
  submissions: number;
  acknowledged: number;
  faults: number;
  lost: number;
  duplicated: number;
  stuck: number;
  orphans: number;
  /** 5xx answers other than 503 and 507 */
  other5xx: number;
  /** processes that ended without being asked to */
  crashes: number;
  /** seconds from the end of each fault until the service accepted again and its backlog drained */
  recoveries: number[];
  durationSeconds: number;
  answers: Record<string, number>;
  problems: string[];
  notes: string[];
}

/** A recovery that waits for a lease (60 s in the campaigns that hold jobs across a fault) shows far above this. */
export const RECOVERY_BAR_SECONDS = 30;

export function meetsBar(r: ScenarioResult): boolean {
  if (r.skipped) return true;
  return (
    r.faults > 0 &&
    r.acknowledged === r.submissions &&
    r.lost === 0 &&
    r.duplicated === 0 &&
    r.stuck === 0 &&
    r.orphans === 0 &&
    r.other5xx === 0 &&
    r.crashes === 0 &&
    r.recoveries.every((s) => s <= RECOVERY_BAR_SECONDS)
  );
}

export function skippedResult(scenario: string, database: DbKind, seed: number, reason: string): ScenarioResult {
  return { scenario, database, seed, skipped: reason, submissions: 0, acknowledged: 0, faults: 0, lost: 0, duplicated: 0, stuck: 0, orphans: 0, other5xx: 0, crashes: 0, recoveries: [], durationSeconds: 0, answers: {}, problems: [], notes: [] };
}

export interface CampaignSpec {
  scenario: string;
  db: DbKind;
  run: RunOptions;
  /** service settings on top of the campaign's */
  env?: Record<string, string>;
  /** where the documents go (default: DATA_DIR/blobs) */
  blobDir?: string;
  /** the service reaches its database through this (a proxy the scenario can cut) */
  databaseVia?: (url: string) => string;
  /** citizens the letters go to */
  recipients?: number;
  /** concurrent clients */
  clients?: number;
  maxDocumentBytes?: number;
  /** longest a client waits before a retry */
  maxRetryWaitMs?: number;
}

/** The citizens a campaign's letters go to (INSZ numbers), registered in the built-in e-Box and given to simulators. */
export function campaignCitizens(n: number): string[] {
  return Array.from({ length: n }, (_, i) => insz(500 + i));
}

/** Lease of the campaigns: long, so that a recovery that waited for one would show. */
export const CAMPAIGN_LEASE_MS = 60_000;
/** Longest a recovery is waited for before it is written down as failed. */
const RECOVERY_LIMIT_MS = 180_000;

export class Campaign {
  readonly started = Date.now();
  readonly processes: ServiceProcess[] = [];
  readonly recoveries: number[] = [];
  readonly notes: string[] = [];
  readonly problems: string[] = [];
  faults = 0;
  load!: Load;
  readonly faultRandom: Random;
  private restarting = new Set<ServiceProcess>();
  private closed = false;

  private constructor(
    readonly spec: CampaignSpec,
    readonly dir: string,
    readonly db: TestDatabase,
    readonly env: Record<string, string>,
    readonly store: Repositories,
    readonly senderId: string,
    readonly apiKey: string,
    readonly recipients: Array<{ type: 'citizen'; id: string }>,
    readonly trustAnchors: Uint8Array[],
    readonly blobDir: string,
  ) {
    this.faultRandom = stream(spec.run.seed, `${spec.scenario}:faults`);
  }

  static async open(spec: CampaignSpec): Promise<Campaign> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rm-faults-${spec.scenario}-`));
    const db = await createTestDatabase(dir, spec.db === 'postgres' ? spec.run.pgAdminUrl : '');
    try {
      const pki = await ensureDevPki(path.join(spec.run.certsDir, 'p256'), 'ECDSA-P256');
      const blobDir = spec.blobDir ?? path.join(dir, 'blobs');
      const env: Record<string, string> = {
        APP_ENV: 'test',
        DATA_DIR: dir,
        BLOB_DIR: blobDir,
        DATABASE_URL: spec.databaseVia ? spec.databaseVia(db.url) : db.url,
        DEV_CERTS_DIR: spec.run.certsDir,
        KEY_ALGORITHM: 'ECDSA-P256',
        JOB_LEASE_MS: String(CAMPAIGN_LEASE_MS),
        SUBMIT_WAIT_MS: '2000',
        MAX_DOCUMENT_BYTES: String(spec.maxDocumentBytes ?? 8 * 1024 * 1024),
        ...spec.env,
      };
      // the harness's own connection goes straight to the database, never through a proxy
      const store = new Repositories(openDatabase(loadConfig({ ...env, DATABASE_URL: db.url }).database));
      await migrateLatest(store.db);
      const { sender, apiKey } = await createSender(store, `Fault campaign ${spec.scenario}`);
      const recipientService = new RecipientService(store, new FsBlobStore(blobDir), loadConfig({ ...env, DATABASE_URL: db.url }));
      const recipients = campaignCitizens(spec.recipients ?? 4).map((id) => ({ type: 'citizen' as const, id }));
      for (const r of recipients) await recipientService.register(r.type, r.id, { activated: true });
      const root = pemToDer(fs.readFileSync(pki.root, 'utf8'));
      return new Campaign(spec, dir, db, env, store, sender.id, apiKey, recipients, root, blobDir);
    } catch (err) {
      await db.drop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get apis(): ServiceProcess[] {
    return this.processes.filter((p) => p.role !== 'worker');
  }

  /** Adds a service process (not started); `env` is read at each start. */
  async add(name: string, role: Role, env: () => Record<string, string> = () => ({})): Promise<ServiceProcess> {
    const port = role === 'worker' ? 0 : await freePort();
    const p = new ServiceProcess(name, role, () => ({ ...this.env, ...env() }), port);
    // a process that ends without being asked to is started again, as a supervisor would
    p.onCrash = (exit) => {
      if (this.closed) return;
      this.problems.push(`crash: ${name} ended on its own (${exit.code ?? exit.signal}): ${p.tail(5)}`);
      void this.restart(p);
    };
    this.processes.push(p);
    return p;
  }

  async startAll(): Promise<void> {
    for (const p of this.processes) await p.start();
  }

  async restart(p: ServiceProcess): Promise<void> {
    if (this.restarting.has(p)) return;
    this.restarting.add(p);
    try {
      await p.start();
    } finally {
      this.restarting.delete(p);
    }
  }

  /** The load: `submissions` letters from the campaign's clients, to the API processes. */
  newLoad(): Load {
    const seed = this.spec.run.seed;
    this.load = new Load({
      urls: () => this.apis.map((p) => p.url),
      apiKey: this.apiKey,
      recipients: this.recipients,
      letters: this.spec.run.submissions,
      clients: this.spec.clients ?? (this.spec.run.size === 'full' ? 10 : 6),
      shapes: stream(seed, `${this.spec.scenario}:letters`),
      jitter: stream(seed, `${this.spec.scenario}:jitter`),
      maxDocumentBytes: Math.min(this.spec.maxDocumentBytes ?? 8 * 1024 * 1024, this.spec.run.size === 'full' ? 4 * 1024 * 1024 : 1024 * 1024),
      ...(this.spec.maxRetryWaitMs ? { maxRetryWaitMs: this.spec.maxRetryWaitMs } : {}),
    });
    return this.load;
  }

  /**
   * Runs the load with `faults` faults spread over it: the load is released in steps, and
   * fault i is injected (after a random pause within `pauseMs`) while the letters of step i
   * are under way; `inject` resolves at the moment the fault ended. Each fault's recovery is
   * measured before the next fault — or, with `overlap`, beside the faults that follow it
   * (a fault every few seconds, whether or not the last one has been recovered from).
   */
  async campaign(faults: number, pauseMs: [number, number], inject: (i: number) => Promise<number>, opts: { overlap?: boolean } = {}): Promise<void> {
    const load = this.load;
    const total = this.spec.run.submissions;
    const step = total / (faults + 1);
    load.gate(Math.ceil(step));
    const running = load.run();
    const recovering: Array<Promise<number>> = [];
    let failure: unknown;
    try {
      for (let i = 0; i < faults; i++) {
        // the first letters of this step, then the fault while they are under way; the
        // rest of the step streams in during the fault and the recovery
        const mark = Math.floor(i * step + between(this.faultRandom, 0.2, 0.5) * step);
        load.gate(mark);
        while (load.started < mark && !load.done) await sleep(20);
        await sleep(between(this.faultRandom, pauseMs[0], pauseMs[1]));
        const injected = inject(i);
        load.gate(Math.ceil((i + 1) * step));
        const ended = await injected;
        this.faults++;
        const recovery = this.recover(ended, i + 1);
        if (opts.overlap) recovering.push(recovery);
        else await recovery;
      }
    } catch (err) {
      failure = err;
    } finally {
      load.gate(total);
      await Promise.all(recovering);
    }
    if (failure) {
      load.stop();
      await running;
      throw failure;
    }
    await running;
  }

  /** Measures the recovery from a fault that ended at `endedAt` (see the file's comment). */
  async recover(endedAt: number, fault = this.faults): Promise<number> {
    const deadline = endedAt + RECOVERY_LIMIT_MS;
    const log = this.spec.run.log;
    try {
      for (const api of this.apis) {
        while (!(await ready(api.url))) {
          if (Date.now() > deadline) throw new Error(`${api.name}: /readyz not 200`);
          await sleep(50);
        }
      }
      if ((await this.load.probe(deadline)) === undefined) throw new Error('the probe submission was not acknowledged');
      const before = new Date(endedAt).toISOString();
      for (;;) {
        const open = await this.openJobs(before);
        if (open === 0) break;
        if (Date.now() > deadline) throw new Error(`${open} jobs of messages submitted before the fault still open`);
        await sleep(100);
      }
    } catch (err) {
      this.problems.push(`recovery: no recovery within ${RECOVERY_LIMIT_MS / 1000} s of fault ${fault}: ${(err as Error).message}`);
      this.recoveries.push(RECOVERY_LIMIT_MS / 1000);
      return RECOVERY_LIMIT_MS / 1000;
    }
    const seconds = (Date.now() - endedAt) / 1000;
    this.recoveries.push(seconds);
    log(`      fault ${fault}: recovered in ${seconds.toFixed(1)} s (${this.load.acknowledged}/${this.load.letters.length} acknowledged)`);
    return seconds;
  }

  /**
   * Jobs still open (pending or running) of messages submitted before `beforeIso` (all
   * messages without it). A wait the service planned — a job never tried whose time has not
   * come (docs/jobs.md, "Jobs that wait") — is no backlog.
   */
  async openJobs(beforeIso?: string): Promise<number> {
    const now = new Date().toISOString();
    let q = this.store
      .db('jobs')
      .join('messages', 'messages.id', 'jobs.message_id')
      .whereIn('jobs.status', ['pending', 'running'])
      .whereNot((w) => w.where('jobs.status', 'pending').andWhere('jobs.attempts', 0).andWhere('jobs.run_at', '>', now));
    if (beforeIso) q = q.where('messages.submitted_at', '<=', beforeIso);
    const row = await q.count({ n: '*' }).first();
    return Number(row?.n ?? 0);
  }

  /** Waits until no job of any message is open (bounded). */
  async drain(limitMs = 180_000): Promise<void> {
    const deadline = Date.now() + limitMs;
    while ((await this.openJobs()) > 0) {
      if (Date.now() > deadline) {
        this.problems.push(`drain: jobs still open ${limitMs / 1000} s after the load ended`);
        return;
      }
      await sleep(200);
    }
  }

  workerAlive = (workerId: string): boolean => {
    const pid = Number(workerId.split(':')[1]);
    return this.processes.some((p) => p.pid === pid);
  };

  /**
   * The end: drain, look at the jobs with the service running, stop every process
   * gracefully (APIs first), look again, and check everything acknowledged.
   */
  async finish(check: Omit<CheckOptions, 'store' | 'blobDir' | 'senderId' | 'letters' | 'trustAnchors'> & { external?: () => Promise<Partial<CheckOptions>> }): Promise<ScenarioResult> {
    await this.drain();
    const external = check.external ? await check.external() : {};
    const running = await checkJobs(this.store, { stopped: false, workerAlive: this.workerAlive });
    this.closed = true;
    for (const p of [...this.apis, ...this.processes.filter((x) => x.role === 'worker')]) await p.stop();
    const stopped = await checkJobs(this.store, { stopped: true, workerAlive: () => false });
    const result = await checkCampaign({ ...check, ...external, store: this.store, blobDir: this.blobDir, senderId: this.senderId, letters: this.load.letters, trustAnchors: this.trustAnchors });
    const load = this.load;
    const crashes = this.problems.filter((p) => p.startsWith('crash:')).length;
    for (const p of this.processes) {
      for (const e of p.unexpectedExits.filter((x) => x.asked === 'SIGTERM')) this.notes.push(`${p.name}: a graceful stop ended with ${e.code ?? e.signal} (it took longer than the service allows itself)`);
      if (p.errorLines > 0) this.notes.push(`${p.name}: ${p.errorLines} lines logged at error level, e.g. ${p.errorSamples.slice(0, 3).join(' | ')}`);
    }
    const refused = load.letters.filter((l) => l.refused !== undefined);
    return {
      scenario: this.spec.scenario,
      database: this.spec.db,
      seed: this.spec.run.seed,
      submissions: load.letters.length,
      acknowledged: load.acknowledged,
      faults: this.faults,
      lost: result.lost,
      duplicated: result.duplicated,
      stuck: running.stuck + stopped.stuck,
      orphans: result.orphans,
      other5xx: load.other5xx,
      crashes,
      recoveries: this.recoveries,
      durationSeconds: (Date.now() - this.started) / 1000,
      answers: Object.fromEntries([...load.answers.entries()].sort()),
      problems: [
        ...this.problems,
        ...refused.slice(0, 5).map((l) => `refused: letter ${l.n}: ${l.refused}`),
        ...load.other5xxSamples.map((s) => `5xx: ${s}`),
        ...running.problems,
        ...stopped.problems.map((p) => `after the graceful stop: ${p}`),
        ...result.problems,
      ],
      notes: this.notes,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.load?.stop();
    await Promise.all(this.processes.map((p) => p.kill()));
    await this.store.close().catch(() => undefined);
    await this.db.drop().catch(() => undefined);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
