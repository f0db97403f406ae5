/**
 * Opens the database and the blob store named by the configuration: one place for every
 * entry point (server roles, CLIs, operator scripts) to get repositories from.
 */
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { SenderService } from '../access/senders.js';
import { PageSessionService } from '../access/pageSessions.js';
import { ContactService } from '../notifications/contacts.js';
import { RecipientService } from '../registered-mail/recipients.js';
import { migrateLatest, openDatabase } from '../store/database.js';
import type { BlobStore } from '../store/BlobStore.js';
import { FsBlobStore } from '../store/FsBlobStore.js';
import { PgBlobStore } from '../store/PgBlobStore.js';
import { Repositories } from '../store/Repositories.js';

export interface OpenedStore {
  repositories: Repositories;
  blobs: BlobStore;
  /** the database connection, for migrations and tests */
  db: Knex;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  log?: Logger;
  /** bring the schema to the latest migration first (default true); a read-only tool passes false */
  migrate?: boolean;
}

export async function openStore(config: Config, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const db = openDatabase(config.database, options.log);
  try {
    if (options.migrate !== false) await migrateLatest(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  const repositories = new Repositories(db);
  const blobs: BlobStore = config.blobStore === 'postgres' ? new PgBlobStore(db) : new FsBlobStore(config.blobDir);
  return { repositories, blobs, db, close: () => repositories.close() };
}

/** The use cases an operator's command-line tools work with. */
export interface OperatorServices {
  repositories: Repositories;
  senders: SenderService;
  recipients: RecipientService;
  contacts: ContactService;
  /** the clerks of senders (and the pages' sessions) */
  pageSessions: PageSessionService;
}

/** Opens the store (migrated), runs `work` with the operator's use cases, and closes it. */
export async function withOperatorServices<T>(config: Config, work: (services: OperatorServices) => Promise<T>): Promise<T> {
  const store = await openStore(config);
  try {
    const { repositories, blobs } = store;
    return await work({
      repositories,
      senders: new SenderService(repositories),
      recipients: new RecipientService(repositories, blobs, config),
      contacts: new ContactService(repositories, config),
      pageSessions: new PageSessionService(repositories, config.pages),
    });
  } finally {
    await store.close();
  }
}
