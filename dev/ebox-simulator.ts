/**
 * Runs the e-Box simulator (dev/ebox-simulator) as its own process, for development and
 * for trying the HTTP e-Box adapter by hand.
 *
 *   tsx dev/ebox-simulator.ts --port 8090 [--host 127.0.0.1] [--latency-ms 50] [--jitter-ms 20]
 *       [--failure-rate 0.1] [--seed N] [--max-rps 20] [--token-ttl 300]
 *       [--client-id ID --client-secret SECRET] [--recipient citizen:85073003328[:inactive]]...
 *
 * Without --recipient it registers the example identifiers of docs/ebox-api.md: citizen
 * 85073003328 and enterprise 0403019261 with an activated e-Box, citizen 17073003384 and
 * enterprise 0428759497 without. More can be added at run time with POST /__admin/recipients.
 * Request lines go to stdout as JSON (pino); no header or body is logged.
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { SIMULATOR_DEFAULT_CLIENT, startEboxSimulator } from './ebox-simulator/EboxSimulator.js';
import type { SimulatorRecipient } from './ebox-simulator/SimulatorState.js';

const USAGE =
  'usage: ebox-simulator [--port 8090] [--host 127.0.0.1] [--latency-ms N] [--jitter-ms N] [--failure-rate P] [--seed N]\n' +
  '                      [--max-rps N] [--token-ttl SECONDS] [--client-id ID --client-secret SECRET]\n' +
  '                      [--recipient citizen|enterprise:ID[:inactive]]...';

const DEFAULT_RECIPIENTS: SimulatorRecipient[] = [
  { eboxType: 'citizen', id: '85073003328', activated: true },
  { eboxType: 'citizen', id: '17073003384', activated: false },
  { eboxType: 'enterprise', id: '0403019261', activated: true },
  { eboxType: 'enterprise', id: '0428759497', activated: false },
];

function number(name: string, raw: string | undefined, fallback: number | undefined): number | undefined {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) usage(`--${name} must be a number, got "${raw}"`);
  return n;
}

function recipient(raw: string): SimulatorRecipient {
  const m = /^(citizen|enterprise):([0-9.\- ]+?)(:inactive)?$/.exec(raw);
  if (!m) usage(`--recipient must look like citizen:85073003328 or enterprise:0403019261:inactive, got "${raw}"`);
  return { eboxType: m[1] as SimulatorRecipient['eboxType'], id: m[2]!, activated: m[3] === undefined };
}

function usage(problem: string): never {
  console.error(`${problem}\n${USAGE}`);
  process.exit(3);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '8090' },
        host: { type: 'string', default: '127.0.0.1' },
        'latency-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        'failure-rate': { type: 'string' },
        seed: { type: 'string' },
        'max-rps': { type: 'string' },
        'token-ttl': { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret': { type: 'string' },
        recipient: { type: 'string', multiple: true },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    usage((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if ((values['client-id'] === undefined) !== (values['client-secret'] === undefined)) usage('--client-id and --client-secret go together');

  const log = pino({ name: 'ebox-simulator' });
  const client = values['client-id'] ? { clientId: values['client-id'], clientSecret: values['client-secret']! } : SIMULATOR_DEFAULT_CLIENT;
  const simulator = await startEboxSimulator({
    port: number('port', values.port, 8090),
    host: values.host,
    latencyMs: number('latency-ms', values['latency-ms'], 0),
    jitterMs: number('jitter-ms', values['jitter-ms'], 0),
    failureRate: number('failure-rate', values['failure-rate'], 0),
    seed: number('seed', values.seed, 1),
    maxRequestsPerSecond: number('max-rps', values['max-rps'], undefined) ?? null,
    tokenTtlSeconds: number('token-ttl', values['token-ttl'], 300),
    clients: [client],
    recipients: values.recipient ? values.recipient.map(recipient) : DEFAULT_RECIPIENTS,
    onRequest: (entry) => log.info(entry, 'request'),
  });
  log.info(
    { url: simulator.url, clientId: client.clientId, defaultSecret: client === SIMULATOR_DEFAULT_CLIENT, faults: simulator.state.faults.current },
    'e-Box simulator listening',
  );

  const stop = (signal: string): void => {
    log.info({ signal }, 'stopping');
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err) => {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
