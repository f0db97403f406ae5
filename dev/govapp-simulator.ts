/**
 * Runs the GovApp backend simulator (dev/notification-simulators/GovAppSimulator.ts) on its own,
 * for local development against a running service:
 *
 *   GOVAPP_CALLBACK_SECRET=… npm run govapp-simulator -- --port 9200 [--token T] [--latency-ms 50] \
 *       [--delivery-delay-ms 200|never] [--read-after-ms 2000] [--failure none|unavailable|reject|hang|fail-first:3]
 *   (--delivery-delay-ms never: a push is delivered only by POST /_sim/pushes/{pushId}/deliver)
 *   then start the service with GOVAPP_PUSH_URL=http://127.0.0.1:9200 and the same GOVAPP_CALLBACK_SECRET.
 */
import { parseArgs } from 'node:util';
import { GovAppSimulator, type GovAppFailureMode } from './notification-simulators/GovAppSimulator.js';

function failure(raw: string | undefined): GovAppFailureMode {
  if (!raw || raw === 'none') return { kind: 'none' };
  if (raw === 'unavailable' || raw === 'reject' || raw === 'hang') return { kind: raw };
  const m = /^fail-first:(\d+)$/.exec(raw);
  if (m) return { kind: 'fail-first', count: Number(m[1]) };
  throw new Error(`--failure: none, unavailable, reject, hang or fail-first:N, not "${raw}"`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9200' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      'latency-ms': { type: 'string', default: '0' },
      'delivery-delay-ms': { type: 'string', default: '200' },
      'read-after-ms': { type: 'string' },
      failure: { type: 'string' },
    },
  });
  const secret = process.env.GOVAPP_CALLBACK_SECRET;
  if (!secret || secret.length < 16) throw new Error('set GOVAPP_CALLBACK_SECRET (at least 16 characters), the same as the service');
  const sim = new GovAppSimulator({
    callbackSecret: secret,
    token: values.token,
    latencyMs: Number(values['latency-ms']),
    deliveryDelayMs: values['delivery-delay-ms'] === 'never' ? null : Number(values['delivery-delay-ms']),
    readAfterMs: values['read-after-ms'] === undefined ? null : Number(values['read-after-ms']),
    failure: failure(values.failure),
  });
  const url = await sim.start(Number(values.port), values.host);
  console.log(`GovApp simulator on ${url} (POST /v1/pushes; GET /_sim/pushes; POST /_sim/pushes/{pushId}/deliver|read; PUT /_sim/options)`);
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
