/**
 * The load generator of bench:tsa and bench:http, run as its own process (so it does not share
 * the event loop or the core of the server it measures): autocannon with the options given as
 * JSON in argv[2], or for a fixed rate an evenly paced generator (`paced`); the body is read
 * from `bodyFile`. Prints the result (autocannon's shape) as JSON.
 */
import fs from 'node:fs';
import http from 'node:http';
// autocannon ships no types; only run() and its result's fields below are used.
// @ts-expect-error no declaration file
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  bodyFile?: string;
  connections: number;
  /** seconds */
  duration: number;
  /** requests per second over all connections (a fixed-rate run) */
  overallRate?: number;
  /** stop after this many requests instead of after `duration` */
  amount?: number;
  /** with overallRate: this script's evenly paced open-loop generator instead of autocannon */
  paced?: boolean;
  timeout?: number;
}

export interface LoadResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
  duration: number;
  /** CPU-seconds of this generator over the run (user + system, all its threads) */
  cpuSeconds?: number;
}

const options = JSON.parse(process.argv[2]!) as LoadOptions;
const body = options.bodyFile ? fs.readFileSync(options.bodyFile) : undefined;
const cpuAtStart = process.cpuUsage();
/** the result, with what the generator itself cost: on a machine it shares with the server, that CPU is not the server's */
const done = (r: LoadResult) => {
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(JSON.stringify({ ...r, cpuSeconds: (cpu.user + cpu.system) / 1e6 }));
};

/**
 * A fixed rate, evenly paced (open loop): request i is sent at start + i / rate, over at most
 * `connections` keep-alive sockets, and its latency counts from that scheduled time (a
 * request that had to wait for a free socket is not excused). autocannon's `overallRate`
 * sends each connection's quota in a burst at the start of every second instead, which
 * measures the burst, not the service at that rate.
 */
async function paced(rate: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.round(rate * options.duration);
  const latencies: number[] = [];
  const statusCodeStats: Record<string, { count: number }> = {};
  let errors = 0;
  const start = performance.now() + 50;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const scheduled = start + (i * 1000) / rate;
      setTimeout(() => {
        const req = http.request(options.url, { method: options.method, headers: { ...options.headers, ...(body ? { 'content-length': body.length } : {}) }, agent }, (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - scheduled);
            const code = String(res.statusCode);
            (statusCodeStats[code] ??= { count: 0 }).count++;
            resolve();
          });
        });
        req.on('error', () => {
          errors++;
          resolve();
        });
        req.end(body);
      }, Math.max(0, scheduled - performance.now()));
    });
  await Promise.all(Array.from({ length: total }, (_, i) => one(i)));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const non2xx = Object.entries(statusCodeStats).filter(([c]) => !c.startsWith('2')).reduce((n, [, v]) => n + v.count, 0);
  const duration = (performance.now() - start) / 1000;
  return {
    requests: { average: latencies.length / duration, total: latencies.length },
    latency: { p50: q(0.5), p99: q(0.99), average: latencies.reduce((a, b) => a + b, 0) / latencies.length, max: latencies.at(-1) ?? NaN },
    errors,
    timeouts: 0,
    non2xx,
    statusCodeStats,
    duration,
  };
}

if (options.paced && options.overallRate) {
  paced(options.overallRate).then(done);
} else autocannon(
  {
    url: options.url,
    method: options.method,
    headers: options.headers,
    body,
    connections: options.connections,
    duration: options.duration,
    pipelining: 1,
    timeout: options.timeout ?? 30,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    ...(options.amount ? { amount: options.amount } : {}),
  },
  (err: Error | null, result: LoadResult) => {
    if (err) {
      console.error(err);
      process.exit(1);
    }
    done(result);
  },
);
