/**
 * The database thread (SqliteThread.ts): owns the service's SQLite connection and runs the
 * statements the main thread sends it, one at a time in arrival order, each answered with
 * its rows or its changes, or with the driver's error (its message and code, never the
 * statement's values). Every statement of the process goes through here, so SQLite keeps one
 * writer, and the time SQLite takes — a COMMIT waiting for the disk above all — is spent on
 * this thread, not on the one that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection, type SqliteConnection } from './sqliteConnection.js';
import type { ThreadReply, ThreadRequest } from './SqliteThread.js';

const port = parentPort!;
const { filename } = workerData as { filename: string };

/** better-sqlite3 binds Buffers as BLOBs; a Buffer crosses threads as a plain Uint8Array */
function bindable(v: unknown): unknown {
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

function failure(err: unknown): { message: string; code?: string } {
  const e = err as { message?: unknown; code?: unknown };
  return { message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined };
}

let conn: SqliteConnection;
try {
  conn = openSqliteConnection(filename);
} catch (err) {
  port.postMessage({ id: 0, error: failure(err) } satisfies ThreadReply);
  process.exit(0);
}
port.postMessage({ id: 0, changes: 0, lastInsertRowid: 0 } satisfies ThreadReply);

port.on('message', (r: ThreadRequest) => {
  if (r.id === 0) {
    conn.close();
    port.close();
    return;
  }
  let reply: ThreadReply;
  try {
    const statement = conn.prepare(r.sql);
    const values = r.values.map(bindable);
    if (statement.reader) reply = { id: r.id, rows: statement.all(values) };
    else {
      const out = statement.run(values);
      reply = { id: r.id, changes: out.changes, lastInsertRowid: Number(out.lastInsertRowid) };
    }
  } catch (err) {
    reply = { id: r.id, error: failure(err) };
  }
  port.postMessage(reply);
});
