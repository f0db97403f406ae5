/**
 * Manages the notification contact directory (the same checks as the admin API).
 *
 *   npm run contacts -- set --type citizen --id 85073003328 --phone +32470123456 --language fr [--time-zone Europe/Brussels]
 *   npm run contacts -- show --type citizen --id 85073003328
 *   npm run contacts -- remove --type citizen --id 85073003328
 *   npm run contacts -- add-installation --type citizen --id 85073003328 --token PUSH_TOKEN \
 *       --key device-public.jwk.json [--installation-id ID] [--device-name "Pixel 8"] [--disabled]
 *   npm run contacts -- set-installation --type citizen --id 85073003328 --installation-id ID --enabled|--disabled
 *   npm run contacts -- remove-installation --type citizen --id 85073003328 --installation-id ID
 * Output is JSON; `npm run contacts -- --help` (or `<command> --help`) lists the commands and their options.
 */
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import { withOperatorServices } from '../src/app/store.js';
import type { ContactService } from '../src/notifications/contacts.js';

/** A usage error (unknown command or option, a required one missing) exits 3, as the other tools. */
const USAGE_EXIT = 3;

async function withContacts(work: (contacts: ContactService) => Promise<unknown>): Promise<void> {
  await withOperatorServices(loadConfig(), async ({ contacts }) => {
    const out = await work(contacts);
    console.log(JSON.stringify(out, null, 2));
  });
}

/** A subcommand about one entry of the directory: --type and --id. */
function entry(name: string, description: string): Command {
  return program
    .command(name)
    .description(description)
    .addOption(new Option('--type <type>', 'recipient type').choices(['citizen', 'enterprise']).makeOptionMandatory())
    .requiredOption('--id <number>', 'INSZ/NISS (citizen) or KBO/BCE number (enterprise)');
}

const program = new Command('contacts')
  .description('the notification contact directory (the same checks as the admin API); output is JSON')
  .exitOverride()
  .showHelpAfterError();

entry('set', 'create or replace an entry: mobile number, language and time zone')
  .option('--phone <e164>', 'mobile number, E.164 (+32470123456)')
  .option('--language <lang>', 'nl, fr, de, en or da')
  .option('--time-zone <zone>', "IANA time zone for quiet hours (default: the number's country's, else NOTIFY_TIME_ZONE)")
  .action((o) => withContacts(async (c) => (await c.put(o.type, o.id, { phoneNumber: o.phone, language: o.language, timeZone: o.timeZone })).contact));

entry('show', 'print an entry with its GovApp installations').action((o) => withContacts((c) => c.get(o.type, o.id)));

entry('remove', 'remove an entry').action((o) =>
  withContacts(async (c) => {
    await c.remove(o.type, o.id);
    return { removed: true };
  }),
);

entry('add-installation', 'add a GovApp installation (push token and device public key)')
  .requiredOption('--token <pushToken>', 'the push token')
  .requiredOption('--key <file>', 'the device public key, a JWK (EC P-256) in a JSON file')
  .option('--installation-id <id>', 'the installation id (drawn when absent)')
  .option('--device-name <name>', 'e.g. "Pixel 8"')
  .option('--disabled', 'notifications off for this installation', false)
  .action((o) =>
    withContacts((c) =>
      c.addInstallation(o.type, o.id, {
        id: o.installationId,
        pushToken: o.token,
        publicKey: JSON.parse(fs.readFileSync(o.key, 'utf8')) as unknown,
        deviceName: o.deviceName,
        notificationsEnabled: !o.disabled,
      }),
    ),
  );

entry('set-installation', 'turn notifications on or off for an installation')
  .requiredOption('--installation-id <id>', 'the installation')
  .option('--enabled', 'notifications on')
  .option('--disabled', 'notifications off')
  .action((o) => {
    if (o.enabled === o.disabled) throw new ServiceError('CONTACT_INVALID', 'one of --enabled / --disabled is required');
    return withContacts((c) => c.updateInstallation(o.type, o.id, o.installationId, { notificationsEnabled: o.enabled === true }));
  });

entry('remove-installation', 'remove an installation')
  .requiredOption('--installation-id <id>', 'the installation')
  .action((o) =>
    withContacts(async (c) => {
      await c.removeInstallation(o.type, o.id, o.installationId);
      return { removed: true };
    }),
  );

for (const command of program.commands) command.exitOverride().showHelpAfterError();

program.parseAsync().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT);
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof ServiceError ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
