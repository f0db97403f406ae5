/**
 * Creates a sender and prints its API key, once (only its hash is stored).
 *   npm run sender:create -- --name "Social Security Office"
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config.js';
import { createSender } from '../src/access/senders.js';
import { migrateLatest, openDatabase } from '../src/store/database.js';
import { Repositories } from '../src/store/Repositories.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' }, json: { type: 'boolean', default: false } } });
  if (!values.name) {
    console.error('usage: create-sender --name NAME [--json]');
    process.exit(3);
  }
  const config = loadConfig();
  const db = openDatabase(config.database);
  try {
    await migrateLatest(db);
    const { sender, apiKey } = await createSender(new Repositories(db), values.name);
    if (values.json) console.log(JSON.stringify({ id: sender.id, name: sender.name, apiKey }));
    else console.log(`sender ${sender.id} (${sender.name})\nAPI key (shown once, keep it secret):\n${apiKey}`);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `configuration error: ${err.message}` : `error: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});
