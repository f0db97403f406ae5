/**
 * The built-in RFC 3161 TSA as a server of its own, on every core: `TSA_PROCESSES`
 * processes (default: one per core) answer POST /tsa on one port (node:cluster: the primary
 * accepts connections and hands them out in turn). Each process has the whole reply path —
 * HTTP parsing, the request's checks, the signature — so replies scale with the cores;
 * worker threads that only signed would leave the HTTP work, most of a P-256 reply, on one
 * core. Serial numbers are random (TimeStampTokenTemplate), so processes need no shared counter.
 *
 *   node dist/src/cli/tsa.js          (npm run tsa: from the sources)
 *
 * Key: TSA_KEY_FILE/TSA_CERT_FILE, TSA_P12_FILE or TSA_PKCS11_* (each process opens its own
 * token session), or the development PKI's. HOST, PORT and the HTTP limits as for the service.
 * A process that dies is replaced; SIGTERM or SIGINT stops them all (each answers what it
 * has under way) and exits 0.
 */
import cluster, { type Worker } from 'node:cluster';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createTimeStamping, devPkiDir, devPkiOptions } from '../app/runtime.js';
import { ensureDevPki } from '../crypto/index.js';
import { createHttpServer, listen } from '../http/server.js';
import { createTsaApp } from '../http/tsa.js';
import { createLogger } from '../logger.js';

function config(): Config {
  try {
    const c = loadConfig();
    if (c.tsa.url) throw new ConfigError('TSA_URL', 'the standalone TSA serves the built-in TSA; unset TSA_URL');
    return c;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

async function primary(): Promise<void> {
  const c = config();
  const log = createLogger(c.logLevel);
  // made once here, not raced by every process on a first start
  if (c.tsa.key.kind === 'dev') await ensureDevPki(devPkiDir(c), c.keyAlgorithm, devPkiOptions(c));
  let stopping = false;
  let listening = 0;
  /** processes that came as far as listening: one that dies before cannot start at all (key, port…), and is not started again and again */
  const served = new Set<number>();
  const fork = () => void cluster.fork();
  cluster.on('listening', (w: Worker, address) => {
    listening++;
    served.add(w.id);
    log.info({ worker: w.process.pid, port: address.port }, 'tsa process listening');
    if (listening === c.tsa.processes) log.info({ host: c.host, port: address.port, processes: c.tsa.processes, keyAlgorithm: c.keyAlgorithm }, `tsa listening on http://${c.host}:${address.port}/tsa (${c.tsa.processes} processes)`);
  });
  cluster.on('exit', (w: Worker, code, signal) => {
    if (stopping) return;
    const early = !served.has(w.id);
    log.error({ worker: w.process.pid, code, signal }, early ? 'tsa process died at start: stopping' : 'tsa process died: starting another');
    if (early) return stop(1);
    fork();
  });
  const stop = (exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    const done = () => {
      if (Object.values(cluster.workers ?? {}).some((w) => w && !w.isDead())) return;
      log.info({ shutdown: 'complete' }, 'tsa stopped');
      process.exit(exitCode);
    };
    cluster.on('exit', done);
    done();
    setTimeout(() => {
      log.error({ shutdown: 'timeout' }, 'tsa processes did not stop within 10 s');
      process.exit(1);
    }, 10_000).unref();
  };
  process.on('SIGTERM', () => stop());
  process.on('SIGINT', () => stop());
  for (let i = 0; i < c.tsa.processes; i++) fork();
}

async function child(): Promise<void> {
  const c = config();
  const log = createLogger(c.logLevel);
  const { tsa, close } = await createTimeStamping(c, { log });
  const server = await createHttpServer(createTsaApp(tsa!, log), c.http);
  await listen(server, c.port, c.host);
  const stop = () => {
    server.close(() => void close().finally(() => process.exit(0)));
    server.closeIdleConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', () => undefined); // the primary decides
}

(cluster.isPrimary ? primary() : child()).catch((err) => {
  console.error(err instanceof Error ? `fatal: ${err.message}` : err);
  process.exit(1);
});
