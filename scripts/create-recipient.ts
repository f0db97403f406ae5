/**
 * Registers a recipient of the built-in e-Box and prints its access token, once.
 *   npm run recipient:create -- --type citizen --id 85073003328 [--inactive] [--name N] [--json]
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { ServiceError } from '../src/domain/errors.js';
import { RecipientService } from '../src/registered-mail/recipients.js';
import { migrateLatest, openDatabase } from '../src/store/database.js';
import { FsBlobStore } from '../src/store/FsBlobStore.js';
import { Repositories } from '../src/store/Repositories.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { type: { type: 'string' }, id: { type: 'string' }, inactive: { type: 'boolean', default: false }, name: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if ((values.type !== 'citizen' && values.type !== 'enterprise') || !values.id) {
    console.error('usage: create-recipient --type citizen|enterprise --id NUMBER [--inactive] [--name NAME] [--json]');
    process.exit(3);
  }
  const config = loadConfig();
  const db = openDatabase(config.database);
  try {
    await migrateLatest(db);
    const service = new RecipientService(new Repositories(db), new FsBlobStore(config.blobDir), config);
    const { recipient, token } = await service.register(values.type, values.id, { activated: !values.inactive, name: values.name });
    if (values.json) console.log(JSON.stringify({ type: recipient.type, id: recipient.identifier, activated: recipient.eboxActivated, token }));
    else console.log(`${recipient.type} ${recipient.identifier} (e-Box ${recipient.eboxActivated ? 'activated' : 'not activated'})\ne-Box token (shown once, keep it secret):\n${token}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : err instanceof ServiceError ? `${err.code}: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
