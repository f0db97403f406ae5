/** Runs the knex migrations: `npm run migrate` (latest) or `npm run migrate -- down` (roll back all). */
import { Command, CommanderError } from 'commander';
import { loadConfig } from '../src/config.js';
import { migrateLatest, migrateRollbackAll, openDatabase } from '../src/store/database.js';

const program = new Command('migrate')
  .description('apply the migrations to DATABASE_URL (the service also does at start), or roll them all back')
  .argument('[direction]', '"latest" (the default) or "down" (roll back every migration)', 'latest')
  .exitOverride()
  .showHelpAfterError();

try {
  program.parse();
} catch (err) {
  process.exit(err instanceof CommanderError && err.exitCode === 0 ? 0 : 3);
}
const direction = program.processedArgs[0] as string;
if (direction !== 'latest' && direction !== 'down') {
  console.error(`migrate: unknown direction "${direction}" (latest or down)`);
  process.exit(3);
}

const config = loadConfig();
const db = openDatabase(config.database);
try {
  if (direction === 'down') await migrateRollbackAll(db);
  else await migrateLatest(db);
  console.log('migrations done');
} finally {
  await db.destroy();
}
