/**
 * The database a test runs on. Without TEST_DATABASE_URL: a fresh SQLite file.
 * With TEST_DATABASE_URL=postgres://…: a fresh PostgreSQL database created for the
 * test and dropped afterwards, so test files never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';

export const onPostgres = /^postgres(ql)?:/.test(process.env.TEST_DATABASE_URL ?? '');

export interface TestDatabase {
  /** value for DATABASE_URL */
  url: string;
  drop(): Promise<void>;
}

/**
 * `admin`: the PostgreSQL server to create the database on (default TEST_DATABASE_URL);
 * anything but a postgres:// URL (e.g. '') makes a SQLite file in `dir`.
 */
export async function createTestDatabase(dir: string, admin: string | undefined = process.env.TEST_DATABASE_URL): Promise<TestDatabase> {
  if (!admin || !/^postgres(ql)?:/.test(admin)) {
    return { url: `sqlite:${path.join(dir, 'test.sqlite')}`, drop: async () => undefined };
  }
  const name = `rm_test_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
