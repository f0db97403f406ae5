/**
 * The scenarios of the fault suite, one function each, all on the same skeleton
 * (campaign.ts): processes, load, faults, recovery, drain, graceful stop, checker.
 *
 *   kill-sqlite        one process (--role all, SQLite), SIGKILL at random, restarted
 *   kill-postgres      an API process and two workers on PostgreSQL, each killed at random
 *                      (one, two or all three at once) and restarted; deposits go to a
 *                      remote e-Box and notices to the GovApp and SMS providers
 *   graceful-restarts  SIGTERM then a new start, about every 2 s (SQLite: the one process;
 *                      PostgreSQL: the API and the workers in turn) while letters stream in
 *   tsa-faults         the external TSA refuses, hangs, answers 500, garbage, a token for
 *                      other data or with another nonce, in turns, then recovers
 *   ebox-faults        the remote e-Box down (connection refused), slow (beyond the
 *                      adapter's timeout or just under it), failing after it stored
 *   notify-faults      the GovApp backend and the SMS aggregator down and slow while
 *                      registered-mail notices go out
 *   postgres-outage    every connection to PostgreSQL cut (20 s) under the API and workers:
 *                      as a submission's COMMIT is answered, as a worker's claim is
 *                      answered, as a proof's COMMIT is answered, at any moment
 *   disk-full          the blob store's file system (a small tmpfs) filled up, then room made
 *
 * Every campaign runs with a 60 s job lease (CAMPAIGN_LEASE_MS), so that a recovery within
 * the bar (RECOVERY_BAR_SECONDS) is the service's own doing — the start-up reclaim, the
 * hand-over at stop, outcomes written again — and never a lease running out.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensureDevPki, loadSigningIdentity, TimeStampAuthority } from '../../src/crypto/index.js';
import { Campaign, campaignCitizens, skippedResult, type CampaignSpec, type DbKind, type RunOptions, type ScenarioResult } from './campaign.js';
import type { ServiceProcess } from './cluster.js';
import { smallDisk } from './disk.js';
import { noticeProviders, remoteEbox } from './providers.js';
import { CuttableProxy } from './proxy.js';
import { between, pick, sleep } from './rng.js';
import { TSA_FAULTS, FaultyTsa, type TsaFault } from './tsa.js';

export interface Scenario {
  name: string;
  /** the databases it runs on: one of them, or each of those asked for (`each`) */
  databases: 'sqlite' | 'postgres' | 'each';
  /** letters and faults of a full run and of the CI slice */
  size: { full: { submissions: number; faults: number }; slice: { submissions: number; faults: number } };
  run(o: RunOptions, db: DbKind, faults: number): Promise<ScenarioResult>;
}

/** The processes of a campaign on `db`: one `--role all` on SQLite; an API and `workers` workers on PostgreSQL. */
async function topology(c: Campaign, db: DbKind, workers = 2): Promise<ServiceProcess[]> {
  if (db === 'sqlite') return [await c.add('service', 'all')];
  const out = [await c.add('api', 'api')];
  for (let i = 1; i <= workers; i++) out.push(await c.add(`worker-${i}`, 'worker'));
  return out;
}

/** Opens a campaign, runs `body`, and always closes it. */
async function withCampaign(spec: CampaignSpec, body: (c: Campaign) => Promise<ScenarioResult>): Promise<ScenarioResult> {
  const c = await Campaign.open(spec);
  try {
    return await body(c);
  } finally {
    await c.close();
  }
}

const killSqlite: Scenario = {
  name: 'kill-sqlite',
  databases: 'sqlite',
  size: { full: { submissions: 2000, faults: 40 }, slice: { submissions: 80, faults: 3 } },
  run: (o, db, faults) =>
    withCampaign({ scenario: 'kill-sqlite', db, run: o }, async (c) => {
      const [service] = await topology(c, db);
      await c.startAll();
      c.newLoad();
      await c.campaign(faults, [0, 1500], async () => {
        await service!.kill();
        const at = Date.now();
        await c.restart(service!);
        return at;
      });
      return c.finish({ finalStatus: 'DEPOSITED', notices: false });
    }),
};

const killPostgres: Scenario = {
  name: 'kill-postgres',
  databases: 'postgres',
  size: { full: { submissions: 2000, faults: 40 }, slice: { submissions: 80, faults: 4 } },
  run: async (o, db, faults) => {
    // deposits to a remote e-Box and notices through the providers, so that kills land on
    // calls to them too; their records say whether anything went out twice
    const ebox = await remoteEbox(o.seed, campaignCitizens(4), { latencyMs: 20, jitterMs: 80 });
    const providers = await noticeProviders(o.seed);
    try {
      return await withCampaign({ scenario: 'kill-postgres', db, run: o, recipients: 4, env: { ...ebox.env, ...providers.env } }, async (c) => {
        const processes = await topology(c, db);
        c.env.NOTIFY_CALLBACK_BASE_URL = processes[0]!.url;
        await c.startAll();
        await providers.contacts(processes[0]!.url, c.recipients.map((r) => r.id));
        c.newLoad();
        const kills = new Map(processes.map((p) => [p.name, 0]));
        await c.campaign(faults, [0, 1500], async () => {
          // each process killed or not, independently; at least one
          let victims = processes.filter(() => c.faultRandom() < 0.5);
          if (victims.length === 0) victims = [pick(c.faultRandom, processes)];
          await Promise.all(victims.map((p) => p.kill()));
          const at = Date.now();
          for (const p of victims) kills.set(p.name, kills.get(p.name)! + 1);
          await Promise.all(victims.map((p) => c.restart(p)));
          return at;
        });
        c.notes.push(`kills: ${[...kills].map(([n, k]) => `${n} ${k}`).join(', ')}`);
        return c.finish({ finalStatus: 'DEPOSITED', notices: true, external: async () => ({ remoteEbox: ebox.sim.state.snapshot(), providers: providers.records() }) });
      });
    } finally {
      await providers.close();
      await ebox.close();
    }
  },
};

const gracefulRestarts: Scenario = {
  name: 'graceful-restarts',
  databases: 'each',
  size: { full: { submissions: 600, faults: 30 }, slice: { submissions: 60, faults: 3 } },
  run: (o, db, faults) =>
    withCampaign({ scenario: 'graceful-restarts', db, run: o }, async (c) => {
      const processes = await topology(c, db);
      await c.startAll();
      c.newLoad();
      // about every 2 s, the API and the workers in turn (on SQLite, the one process)
      await c.campaign(
        faults,
        [1500, 2500],
        async (i) => {
          const p = processes[i % processes.length]!;
          const at = Date.now();
          await p.stop();
          await c.restart(p);
          return at;
        },
        { overlap: true },
      );
      return c.finish({ finalStatus: 'DEPOSITED', notices: false });
    }),
};

const tsaFaults: Scenario = {
  name: 'tsa-faults',
  databases: 'each',
  size: { full: { submissions: 300, faults: 12 }, slice: { submissions: 60, faults: 3 } },
  run: async (o, db, faults) => {
    const pki = await ensureDevPki(path.join(o.certsDir, 'p256'), 'ECDSA-P256');
    const tsa = new FaultyTsa(new TimeStampAuthority(await loadSigningIdentity({ keyFile: pki.tsaKey, certFile: pki.tsaCert, chainFile: pki.root }), { policyOid: '2.25.1', accuracyMs: 1 }));
    const url = await tsa.start();
    try {
      return await withCampaign({ scenario: 'tsa-faults', db, run: o, env: { TSA_URL: url, TSA_TIMEOUT_MS: '2000' } }, async (c) => {
        await topology(c, db, 1);
        await c.startAll();
        c.newLoad();
        // every mode in turns: one per fault in a full run, two per fault in the slice
        const perFault = Math.max(1, Math.ceil(TSA_FAULTS.length / faults));
        const exercised = new Set<TsaFault>();
        let next = 0;
        await c.campaign(faults, [0, 1000], async () => {
          for (let k = 0; k < perFault; k++) {
            const mode = TSA_FAULTS[next++ % TSA_FAULTS.length]!;
            const before = tsa.answered[mode];
            tsa.set(mode);
            // held until the service has met it a few times (bounded), then a little longer
            const until = Date.now() + 15_000;
            while (tsa.answered[mode] - before < 3 && Date.now() < until) await sleep(50);
            await sleep(between(c.faultRandom, 500, 1500));
            if (tsa.answered[mode] > before) exercised.add(mode);
          }
          tsa.set('serve');
          return Date.now();
        });
        const missed = TSA_FAULTS.filter((m) => !exercised.has(m));
        if (missed.length > 0) c.problems.push(`fault not exercised: the TSA received no request while in mode ${missed.join(', ')}`);
        c.notes.push(`TSA answers: ${Object.entries(tsa.answered).map(([m, n]) => `${m} ${n}`).join(', ')}`);
        const result = await c.finish({ finalStatus: 'DEPOSITED', notices: false });
        // a fault no request met proves nothing: it does not count
        return { ...result, faults: missed.length > 0 ? Math.max(0, result.faults - missed.length) : result.faults };
      });
    } finally {
      await tsa.close();
    }
  },
};

const EBOX_FAULTS = ['down', 'slow', 'fail-after-store'] as const;

const eboxFaults: Scenario = {
  name: 'ebox-faults',
  databases: 'each',
  size: { full: { submissions: 300, faults: 9 }, slice: { submissions: 60, faults: 3 } },
  run: async (o, db, faults) => {
    const ebox = await remoteEbox(o.seed, campaignCitizens(4));
    const { sim, proxy } = ebox;
    try {
      return await withCampaign({ scenario: 'ebox-faults', db, run: o, recipients: 4, env: ebox.env }, async (c) => {
        await topology(c, db, 1);
        await c.startAll();
        c.newLoad();
        const injected = { down: 0, slow: 0, 'fail-after-store': 0 };
        await c.campaign(faults, [0, 1000], async (i) => {
          const kind = EBOX_FAULTS[i % EBOX_FAULTS.length]!;
          injected[kind]++;
          if (kind === 'down') {
            proxy.cut();
            await sleep(between(c.faultRandom, 2000, 4000));
            proxy.restore();
          } else if (kind === 'slow') {
            // some calls beyond the adapter's 2 s, some just under
            sim.state.faults.update({ latencyMs: 1500, jitterMs: 1500 });
            await sleep(between(c.faultRandom, 3000, 5000));
            sim.state.faults.update({ latencyMs: 0, jitterMs: 0 });
          } else {
            // the next publications are stored, then their answer is cut off
            const before = sim.state.faults.injected['destroy-after-store'];
            const count = 3;
            sim.state.faults.failNext('destroy-after-store', count);
            const until = Date.now() + 30_000;
            while (sim.state.faults.injected['destroy-after-store'] - before < count && Date.now() < until) await sleep(50);
            if (sim.state.faults.injected['destroy-after-store'] - before < count) c.problems.push('fault not exercised: fewer publications than queued failures after store');
          }
          return Date.now();
        });
        c.notes.push(`e-Box faults: ${Object.entries(injected).map(([k, n]) => `${k} ${n}`).join(', ')}; publications stored after the answer was cut: ${sim.state.faults.injected['destroy-after-store']}`);
        return c.finish({ finalStatus: 'DEPOSITED', notices: false, external: async () => ({ remoteEbox: sim.state.snapshot() }) });
      });
    } finally {
      await ebox.close();
    }
  },
};

const NOTIFY_FAULTS = ['govapp-down', 'sms-down', 'govapp-slow', 'sms-slow'] as const;

const notifyFaults: Scenario = {
  name: 'notify-faults',
  databases: 'each',
  size: { full: { submissions: 200, faults: 8 }, slice: { submissions: 60, faults: 2 } },
  run: async (o, db, faults) => {
    const providers = await noticeProviders(o.seed);
    const { govapp, sms, govappProxy, smsProxy } = providers;
    try {
      return await withCampaign({ scenario: 'notify-faults', db, run: o, env: providers.env }, async (c) => {
        const processes = await topology(c, db, 1);
        // every process names the API as the place providers report to
        c.env.NOTIFY_CALLBACK_BASE_URL = processes[0]!.url;
        await c.startAll();
        await providers.contacts(processes[0]!.url, c.recipients.map((r) => r.id));
        c.newLoad();
        const injected = Object.fromEntries(NOTIFY_FAULTS.map((k) => [k, 0]));
        await c.campaign(faults, [0, 1000], async (i) => {
          // a full run takes the providers one at a time; the slice both at once
          const kinds = faults >= NOTIFY_FAULTS.length ? [NOTIFY_FAULTS[i % NOTIFY_FAULTS.length]!] : i % 2 === 0 ? (['govapp-down', 'sms-down'] as const) : (['govapp-slow', 'sms-slow'] as const);
          for (const k of kinds) {
            injected[k]!++;
            if (k === 'govapp-down') govappProxy.cut();
            if (k === 'sms-down') smsProxy.cut();
            if (k === 'govapp-slow') govapp.setOptions({ latencyMs: 3000 });
            if (k === 'sms-slow') sms.setOptions({ latencyMs: 1500, jitterMs: 1500 });
          }
          await sleep(between(c.faultRandom, 3000, 5000));
          govappProxy.restore();
          smsProxy.restore();
          govapp.setOptions({ latencyMs: 0 });
          sms.setOptions({ latencyMs: 0, jitterMs: 0 });
          return Date.now();
        });
        return c.finish({
          finalStatus: 'DEPOSITED',
          notices: true,
          external: async () => {
            c.notes.push(`provider faults: ${Object.entries(injected).map(([k, n]) => `${k} ${n}`).join(', ')}; pushes ${govapp.pushes.size} (${govapp.calls} calls), SMS ${sms.messages.length}`);
            return { providers: providers.records() };
          },
        });
      });
    } finally {
      await providers.close();
    }
  },
};

const postgresOutage: Scenario = {
  name: 'postgres-outage',
  databases: 'postgres',
  size: { full: { submissions: 800, faults: 4 }, slice: { submissions: 80, faults: 2 } },
  run: async (o, db, faults) => {
    const proxy = await CuttableProxy.forUrl(o.pgAdminUrl).start();
    const cutMs = o.size === 'full' ? 20_000 : 5_000;
    try {
      return await withCampaign({ scenario: 'postgres-outage', db, run: o, databaseVia: (url) => proxy.rewrite(url) }, async (c) => {
        await topology(c, db);
        await c.startAll();
        c.newLoad();
        // the cuts in turns: as a submission's COMMIT is answered, as a worker's claim of jobs
        // is answered, as a proof's COMMIT is answered, at a moment the load decides
        const kinds = ['submission-commit', 'job-claim', 'proof-commit', 'any-moment'] as const;
        const traps = {
          'submission-commit': () => proxy.cutAtAnswer('insert into "messages"', { commit: true }),
          'job-claim': () => proxy.cutAtAnswer("SET status = 'running', locked_by", { commit: false }),
          'proof-commit': () => proxy.cutAtAnswer('insert into "evidence"', { commit: true }),
        };
        const made: string[] = [];
        await c.campaign(faults, [0, 1000], async (i) => {
          const kind = kinds[i % kinds.length]!;
          if (kind === 'any-moment') {
            proxy.cut();
          } else {
            if ((await Promise.race([traps[kind](), sleep(15_000).then(() => 'late' as const)])) === 'late') {
              proxy.disarm();
              proxy.cut();
              c.problems.push(`fault not exercised: no ${kind} to cut at within 15 s`);
            }
          }
          made.push(kind);
          await sleep(cutMs);
          proxy.restore();
          return Date.now();
        });
        c.notes.push(`PostgreSQL cut for ${cutMs / 1000} s: ${made.join(', ')}`);
        return c.finish({ finalStatus: 'DEPOSITED', notices: false });
      });
    } finally {
      await proxy.close();
    }
  },
};

const diskFull: Scenario = {
  name: 'disk-full',
  databases: 'each',
  size: { full: { submissions: 300, faults: 6 }, slice: { submissions: 60, faults: 3 } },
  run: async (o, db, faults) => {
    // room for every document of the campaign, with a wide margin
    const disk = smallDisk(o.size === 'full' ? 512 * 1024 * 1024 : 96 * 1024 * 1024);
    if ('cannot' in disk) return skippedResult('disk-full', db, o.seed, `skipped: ${disk.cannot}`);
    try {
      // readiness asks for room for one more document of the largest size: 2 MiB here
      return await withCampaign({ scenario: 'disk-full', db, run: o, blobDir: path.join(disk.dir, 'blobs'), maxDocumentBytes: 2 * 1024 * 1024 }, async (c) => {
        await topology(c, db, 1);
        await c.startAll();
        c.newLoad();
        const refusedBefore = () => [...c.load.answers.entries()].filter(([k]) => k.startsWith('507')).reduce((n, [, v]) => n + v, 0);
        await c.campaign(faults, [0, 1000], async () => {
          const before = refusedBefore();
          const filler = disk.fill(256 * 1024);
          // full until the service has refused a few uploads (bounded), then a little longer
          const until = Date.now() + 15_000;
          while (refusedBefore() - before < 3 && Date.now() < until) await sleep(50);
          await sleep(between(c.faultRandom, 500, 1500));
          fs.rmSync(filler);
          return Date.now();
        });
        c.notes.push(`507 answers: ${refusedBefore()}`);
        if (refusedBefore() === 0) c.problems.push('fault not exercised: no submission met the full disk');
        const result = await c.finish({ finalStatus: 'DEPOSITED', notices: false });
        return refusedBefore() === 0 ? { ...result, faults: 0 } : result;
      });
    } finally {
      disk.unmount();
    }
  },
};

export const SCENARIOS: Scenario[] = [killSqlite, killPostgres, gracefulRestarts, tsaFaults, eboxFaults, notifyFaults, postgresOutage, diskFull];

/** The runs of a scenario among the databases asked for. */
export function databasesOf(s: Scenario, wanted: DbKind[]): DbKind[] {
  return s.databases === 'each' ? wanted : wanted.includes(s.databases) ? [s.databases] : [];
}
