/**
 * Starts the service: `npm start` (compiled) or `npm run dev` (tsx).
 *   --role all     (default) HTTP API and job worker in one process
 *   --role api     HTTP API only (workers run elsewhere; needs PostgreSQL to share the database)
 *   --role worker  job worker only
 *
 * The service is loaded (serve.ts) only after startupHeap.ts has held the young generation
 * small, and it may grow again once the service is up.
 */
import { releaseStartupHeap } from './startupHeap.js';

try {
  const { main } = await import('./serve.js');
  await main();
  releaseStartupHeap();
} catch (err) {
  // a setting found wrong only when used (a PKCS#11 token refusing the PIN…)
  if (err instanceof Error && err.name === 'ConfigError') {
    console.error(`configuration error: ${err.message}`);
    process.exit(1);
  }
  const errCode = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  const code = typeof errCode === 'string' ? `${errCode}: ` : '';
  console.error(err instanceof Error ? `fatal: ${code}${err.message}` : err);
  if (err instanceof Error && err.cause) console.error('cause:', err.cause instanceof Error ? err.cause.message : err.cause);
  process.exit(1);
}
