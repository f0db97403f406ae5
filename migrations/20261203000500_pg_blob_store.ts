import type { Knex } from 'knex';

/**
 * Document bytes in the database (BLOB_STORE=postgres, src/store/PgBlobStore.ts): one row
 * per stored or staged document, and its bytes in chunks of up to 1 MiB. A staged row has
 * no key yet and names its writer (`<host tag>-<pid>`) so that a sweep removes only what
 * no process can still be writing. The tables exist on SQLite too and stay empty there.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('blob_objects', (t) => {
    t.string('id', 36).primary();
    /** null while staged; the document's blob key once committed */
    t.string('blob_key', 100).unique();
    t.string('owner', 40).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha256', 64);
    t.string('created_at', 30).notNullable();
    t.string('committed_at', 30);
  });
  await knex.schema.createTable('blob_chunks', (t) => {
    t.string('blob_id', 36).notNullable().references('id').inTable('blob_objects');
    t.integer('seq').notNullable();
    t.binary('data').notNullable();
    t.primary(['blob_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('blob_chunks');
  await knex.schema.dropTable('blob_objects');
}
