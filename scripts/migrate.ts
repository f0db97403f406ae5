/** Runs the knex migrations: `npm run migrate` (latest) or `npm run migrate -- down` (roll back all). */
import { loadConfig } from '../src/config.js';
import { migrateLatest, migrateRollbackAll, openDatabase } from '../src/store/database.js';

const config = loadConfig();
const db = openDatabase(config.database);
try {
  if (process.argv[2] === 'down') await migrateRollbackAll(db);
  else await migrateLatest(db);
  console.log('migrations done');
} finally {
  await db.destroy();
}
