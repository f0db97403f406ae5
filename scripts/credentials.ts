/**
 * Credentials from the command line, for operators: senders' API keys and client
 * certificates (list, issue, rotate, revoke) and recipients' e-Box tokens (issue, revoke).
 * The same rules as the admin API; a revocation holds at once in every running process.
 *
 *   npm run credentials -- senders
 *   npm run credentials -- keys --sender ID
 *   npm run credentials -- key:create --sender ID --name NAME [--expires 2027-06-30]
 *   npm run credentials -- key:rotate --sender ID --credential CID [--grace SECONDS]
 *   npm run credentials -- revoke --sender ID --credential CID
 *   npm run credentials -- certificate:add --sender ID --name NAME --file client.pem
 *   npm run credentials -- recipient-token:issue --type citizen --id 85073003328
 *   npm run credentials -- recipient-token:revoke --type citizen --id 85073003328
 * Add --json for machine-readable output. A secret (key, token) is printed once.
 */
import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import { credentialJson } from '../src/http/views.js';
import { withOperatorServices, type OperatorServices } from '../src/app/store.js';

type Out = { json: boolean };

function withServices<T>(work: (s: OperatorServices) => Promise<T>): Promise<T> {
  return withOperatorServices(loadConfig(), work);
}

function print(out: Out, value: unknown, text: string): void {
  console.log(out.json ? JSON.stringify(value) : text);
}

function describe(c: ReturnType<typeof credentialJson>): string {
  return `${c.id}  ${c.kind.padEnd(22)} ${c.name.padEnd(16)} ${c.state.padEnd(8)} ${c.hint ?? ''}  created ${c.createdAt}  last used ${c.lastUsedAt ?? 'never'}${c.expiresAt ? `  expires ${c.expiresAt}` : ''}`;
}

const program = new Command('credentials').description('senders\' API keys and client certificates, recipients\' e-Box tokens').option('--json', 'machine-readable output', false);
const out = (): Out => ({ json: program.opts().json === true });

program.command('senders').description('list the senders').action(() =>
  withServices(async ({ senders }) => {
    const list = await senders.list();
    print(out(), list.map((s) => ({ id: s.id, name: s.name, createdAt: s.createdAt })), list.map((s) => `${s.id}  ${s.name}`).join('\n'));
  }),
);

program
  .command('keys')
  .description("list a sender's credentials")
  .requiredOption('--sender <id>')
  .action((o) =>
    withServices(async ({ senders }) => {
      const list = (await senders.credentials(o.sender)).map(credentialJson);
      print(out(), list, list.map(describe).join('\n'));
    }),
  );

program
  .command('key:create')
  .description('issue a new API key for a sender (printed once)')
  .requiredOption('--sender <id>')
  .option('--name <name>', 'what the key is for', 'default')
  .option('--expires <date>', 'RFC 3339 date or date-time after which it stops working')
  .action((o) =>
    withServices(async ({ senders }) => {
      const { credential, apiKey } = await senders.issueApiKey(o.sender, o.name, o.expires);
      print(out(), { credential: credentialJson(credential), apiKey }, `${describe(credentialJson(credential))}\nAPI key (shown once, keep it secret):\n${apiKey}`);
    }),
  );

program
  .command('key:rotate')
  .description('replace an API key by a new one of the same name (printed once)')
  .requiredOption('--sender <id>')
  .requiredOption('--credential <id>')
  .option('--grace <seconds>', 'how long the old key keeps working (0: revoked at once)', '0')
  .action((o) =>
    withServices(async ({ senders }) => {
      const grace = /^\d+$/.test(o.grace) ? Number(o.grace) : NaN;
      const { credential, apiKey, previous } = await senders.rotateApiKey(o.sender, o.credential, grace);
      print(
        out(),
        { credential: credentialJson(credential), apiKey, previous: credentialJson(previous) },
        `new: ${describe(credentialJson(credential))}\nold: ${describe(credentialJson(previous))}\nAPI key (shown once, keep it secret):\n${apiKey}`,
      );
    }),
  );

program
  .command('revoke')
  .description('revoke a credential at once')
  .requiredOption('--sender <id>')
  .requiredOption('--credential <id>')
  .action((o) =>
    withServices(async ({ senders }) => {
      const c = credentialJson(await senders.revoke(o.sender, o.credential));
      print(out(), c, describe(c));
    }),
  );

program
  .command('certificate:add')
  .description('register a TLS client certificate (PEM) for a sender, for mutual TLS')
  .requiredOption('--sender <id>')
  .requiredOption('--file <pem>')
  .option('--name <name>', 'what it is for', 'default')
  .action((o) =>
    withServices(async ({ senders }) => {
      const c = credentialJson(await senders.registerCertificate(o.sender, o.name, fs.readFileSync(o.file, 'utf8')));
      print(out(), c, describe(c));
    }),
  );

program
  .command('recipient-token:issue')
  .description("issue a new e-Box token for a recipient (printed once); the old one stops working")
  .requiredOption('--type <citizen|enterprise>')
  .requiredOption('--id <number>')
  .action((o) =>
    withServices(async ({ recipients }) => {
      const token = await recipients.issueToken(recipientType(o.type), o.id);
      print(out(), { token }, `e-Box token (shown once, keep it secret):\n${token}`);
    }),
  );

program
  .command('recipient-token:revoke')
  .description("withdraw a recipient's e-Box token")
  .requiredOption('--type <citizen|enterprise>')
  .requiredOption('--id <number>')
  .action((o) =>
    withServices(async ({ recipients }) => {
      await recipients.revokeToken(recipientType(o.type), o.id);
      print(out(), { revoked: true }, 'revoked');
    }),
  );

function recipientType(t: string): 'citizen' | 'enterprise' {
  if (t !== 'citizen' && t !== 'enterprise') throw new ServiceError('RECIPIENT_INVALID', '--type is citizen or enterprise');
  return t;
}

/** A usage error (unknown command or option, a required one missing) exits 3, as the other tools. */
const USAGE_EXIT = 3;
program.exitOverride();
for (const command of program.commands) command.exitOverride().showHelpAfterError();

program.parseAsync().catch((err) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT);
  if (err instanceof ConfigError) console.error(`configuration error: ${err.message}`);
  else if (err instanceof ServiceError) console.error(`error: ${err.code}: ${err.message}`);
  else console.error(`error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
