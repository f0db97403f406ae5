/**
 * Creates a sender and prints its API key, once (only its hash is stored).
 *   npm run sender:create -- --name "Social Security Office"
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../src/config.js';
import { createSender } from '../src/access/senders.js';
import { withOperatorServices } from '../src/app/store.js';

const program = new Command('create-sender')
  .description('create a sender and print its API key, once (only its SHA-256 is stored)')
  .requiredOption('--name <name>', "the sender's name")
  .option('--json', 'machine-readable output', false)
  .exitOverride()
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const values = program.opts<{ name: string; json: boolean }>();
  const config = loadConfig();
  await withOperatorServices(config, async ({ repositories }) => {
    const { sender, apiKey } = await createSender(repositories, values.name);
    if (values.json) console.log(JSON.stringify({ id: sender.id, name: sender.name, apiKey }));
    else console.log(`sender ${sender.id} (${sender.name})\nAPI key (shown once, keep it secret):\n${apiKey}`);
  });
}

main().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 3);
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
