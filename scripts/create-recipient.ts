/**
 * Registers a recipient of the built-in e-Box and prints its access token, once.
 *   npm run recipient:create -- --type citizen --id 85073003328 [--inactive] [--name N] [--json]
 */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import { withOperatorServices } from '../src/app/store.js';

const program = new Command('create-recipient')
  .description('register a recipient of the built-in e-Box and print its access token, once')
  .addOption(new Option('--type <type>', 'recipient type').choices(['citizen', 'enterprise']).makeOptionMandatory())
  .requiredOption('--id <number>', 'INSZ/NISS (citizen) or KBO/BCE number (enterprise)')
  .option('--inactive', 'register the e-Box as not activated (submissions to it are rejected)', false)
  .option('--name <name>', "the recipient's name")
  .option('--json', 'machine-readable output', false)
  .exitOverride()
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const values = program.opts<{ type: 'citizen' | 'enterprise'; id: string; inactive: boolean; name?: string; json: boolean }>();
  const config = loadConfig();
  await withOperatorServices(config, async ({ recipients }) => {
    const { recipient, token } = await recipients.register(values.type, values.id, { activated: !values.inactive, name: values.name });
    if (values.json) console.log(JSON.stringify({ type: recipient.type, id: recipient.identifier, activated: recipient.eboxActivated, token }));
    else console.log(`${recipient.type} ${recipient.identifier} (e-Box ${recipient.eboxActivated ? 'activated' : 'not activated'})\ne-Box token (shown once, keep it secret):\n${token}`);
  });
}

main().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 3);
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof ServiceError ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
