/**
 * Runs the SMS aggregator simulator (dev/notification-simulators/SmsSimulator.ts) on its own, for
 * local development against a running service:
 *
 *   SMS_HTTP_CALLBACK_SECRET=… npm run sms-simulator -- --port 9300 [--token T] [--latency-ms 50] \
 *       [--jitter-ms 100] [--failure none|unavailable|hang|fail-first:3] [--failure-rate 0.1] \
 *       [--reject-rate 0.01] [--invalid-number +32470000000 …] [--delivery-delay-ms 1000] \
 *       [--failed-rate 0.05] [--expired-rate 0.02] [--callback-url http://127.0.0.1:8080/v1/callbacks/sms-http] [--rate-per-second 100] [--seed 42]
 *   then start the service with NOTIFY_SMS_PROVIDER=http SMS_HTTP_URL=http://127.0.0.1:9300/v1/sms,
 *   the same SMS_HTTP_CALLBACK_SECRET (and SMS_HTTP_TOKEN=T with --token).
 *   GET http://127.0.0.1:9300/messages lists what it sent and the reports it made.
 */
import { parseArgs } from 'node:util';
import { checkSmsSimulatorOptions, SmsSimulator, type SmsFailureMode, type SmsSimulatorOptions } from './notification-simulators/SmsSimulator.js';

function failure(raw: string | undefined): SmsFailureMode {
  if (!raw || raw === 'none') return { kind: 'none' };
  if (raw === 'unavailable' || raw === 'hang') return { kind: raw };
  const m = /^fail-first:(\d+)$/.exec(raw);
  if (m) return { kind: 'fail-first', count: Number(m[1]) };
  throw new Error(`--failure: none, unavailable, hang or fail-first:N, not "${raw}"`);
}

function num(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name}: a number expected, not "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9300' },
      host: { type: 'string', default: '127.0.0.1' },
      token: { type: 'string' },
      'latency-ms': { type: 'string', default: '50' },
      'jitter-ms': { type: 'string', default: '100' },
      failure: { type: 'string' },
      'failure-rate': { type: 'string' },
      'reject-rate': { type: 'string' },
      'invalid-number': { type: 'string', multiple: true },
      'delivery-delay-ms': { type: 'string', default: '1000' },
      'failed-rate': { type: 'string' },
      'expired-rate': { type: 'string' },
      'callback-url': { type: 'string' },
      'rate-per-second': { type: 'string' },
      seed: { type: 'string' },
    },
  });
  const secret = process.env.SMS_HTTP_CALLBACK_SECRET;
  if (!secret || secret.length < 16) throw new Error('set SMS_HTTP_CALLBACK_SECRET (at least 16 characters), the same as the service');
  const options: Partial<SmsSimulatorOptions> = {
    token: values.token,
    latencyMs: num('latency-ms', values['latency-ms']),
    jitterMs: num('jitter-ms', values['jitter-ms']),
    failure: failure(values.failure),
    failureRate: num('failure-rate', values['failure-rate']),
    rejectRate: num('reject-rate', values['reject-rate']),
    invalidNumbers: values['invalid-number'],
    deliveryDelayMs: num('delivery-delay-ms', values['delivery-delay-ms']),
    failedRate: num('failed-rate', values['failed-rate']),
    expiredRate: num('expired-rate', values['expired-rate']),
    callbackUrl: values['callback-url'],
    ratePerSecond: num('rate-per-second', values['rate-per-second']),
    seed: num('seed', values.seed),
  };
  for (const k of Object.keys(options) as Array<keyof SmsSimulatorOptions>) if (options[k] === undefined) delete options[k];
  const problem = checkSmsSimulatorOptions(options);
  if (problem) throw new Error(problem);
  const sim = new SmsSimulator({ ...options, callbackSecret: secret });
  const url = await sim.start(Number(values.port), values.host);
  console.log(`SMS aggregator simulator on ${url} (POST /v1/sms; GET /messages; GET /messages/{id}; PUT /_sim/options)`);
  const stop = () => void sim.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
