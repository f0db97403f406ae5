/**
 * The clerks of senders from the command line, for operators: which identities of the
 * identity provider (issuer and subject of their ID tokens) sign in to a sender's console.
 * The same rules as the admin API (/v1/admin/senders/{id}/clerks); a change holds at once.
 *
 *   npm run clerk:map -- add --sender ID --subject SUB [--issuer URL] [--name NAME]
 *   npm run clerk:map -- list --sender ID
 *   npm run clerk:map -- remove --sender ID --subject SUB [--issuer URL]
 *
 * --issuer defaults to OIDC_ISSUER. Add --json for machine-readable output.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import type { Clerk } from '../src/access/pageSessions.js';
import { withOperatorServices, type OperatorServices } from '../src/app/store.js';

const config = (() => {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
})();

const program = new Command('clerk:map').description("the clerks of senders: identities that sign in to a sender's console").option('--json', 'machine-readable output', false);
const json = (): boolean => program.opts().json === true;

function issuerOf(given: string | undefined): string {
  const issuer = given ?? config.pages.oidc?.issuer;
  if (issuer === undefined) throw new ServiceError('CLERK_INVALID', '--issuer is required: OIDC_ISSUER is not set');
  return issuer;
}

const line = (c: Clerk) => `${c.issuer}  ${c.subject}  ${c.name ?? ''}  sender ${c.senderId}  since ${c.createdAt}`;
const run = <T>(work: (s: OperatorServices) => Promise<T>) => withOperatorServices(config, work);

program
  .command('add')
  .description('map an identity to a sender (again: changes its name)')
  .requiredOption('--sender <id>')
  .requiredOption('--subject <sub>')
  .option('--issuer <url>', 'the identity provider (default: OIDC_ISSUER)')
  .option('--name <name>', 'who it is, for the operator')
  .action((o) =>
    run(async ({ pageSessions }) => {
      const c = await pageSessions.mapClerk(o.sender, { issuer: issuerOf(o.issuer), subject: o.subject, name: o.name });
      console.log(json() ? JSON.stringify(c) : line(c));
    }),
  );

program
  .command('list')
  .description("a sender's clerks")
  .requiredOption('--sender <id>')
  .action((o) =>
    run(async ({ pageSessions }) => {
      const list = await pageSessions.clerks(o.sender);
      console.log(json() ? JSON.stringify(list) : list.map(line).join('\n'));
    }),
  );

program
  .command('remove')
  .description('unmap a clerk, at once')
  .requiredOption('--sender <id>')
  .requiredOption('--subject <sub>')
  .option('--issuer <url>', 'the identity provider (default: OIDC_ISSUER)')
  .action((o) =>
    run(async ({ pageSessions }) => {
      await pageSessions.unmapClerk(o.sender, issuerOf(o.issuer), o.subject);
      console.log(json() ? JSON.stringify({ removed: true }) : 'removed');
    }),
  );

/** A usage error (unknown command or option, a required one missing) exits 3, as the other tools. */
const USAGE_EXIT = 3;
program.exitOverride();
for (const command of program.commands) command.exitOverride().showHelpAfterError();

program.parseAsync().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT);
  if (err instanceof ServiceError) console.error(`error: ${err.code}: ${err.message}`);
  else console.error(`error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
