/**
 * Starts the service: `npm start` (compiled) or `npm run dev` (tsx).
 */
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from '../config.js';
import { createApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { createRuntime } from '../services/runtime.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  const rt = await createRuntime(config, log);
  const app = createApp(rt, log);
  const server: Server = app.listen(config.port, config.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  log.info(
    { port, host: config.host, database: config.database.client, tsa: config.tsa.url ?? 'built-in', keyAlgorithm: config.keyAlgorithm, trustAnchor: rt.devPki?.root },
    `registered-mail listening on http://${config.host}:${port}`,
  );

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close(() => {
      rt.close().finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof Error ? `fatal: ${err.message}` : err);
  if (err instanceof Error && err.cause) console.error('cause:', err.cause instanceof Error ? err.cause.message : err.cause);
  process.exit(1);
});
