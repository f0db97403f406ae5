/**
 * The identifier of a row the service writes for each letter, proof, deposit or notification
 * (messages, documents and their blobs, proofs, mailbox entries, batches, notifications, hash
 * trees): a UUID version 7 (RFC 9562, §5.7), by the `uuid` package.
 *
 * Its first 48 bits are the Unix time in milliseconds, then (in this process) a counter that
 * starts at a random value each millisecond, then 42 random bits: identifiers made one after
 * the other sort in the order they were made. So the indexes keyed by them — each table's
 * primary key, and the columns that name a message, a proof or a blob — grow at their right
 * edge, where the rows of one commit share a few pages, instead of each row dirtying a page
 * of its own at a random place (with version 4's 122 random bits). Each page a commit
 * changes is written to SQLite's write-ahead log (PostgreSQL's after a checkpoint: the whole
 * page): a sealed letter with its deposit wrote a third fewer pages to it (README, Performance).
 *
 * What the order gives away: the millisecond a row was made, which its holder (the sender of
 * a message, the recipient of a mailbox entry) reads in the row itself anyway. Identifiers
 * are names, never credentials: every read of a row checks who asks (test/access), so their
 * fewer random bits (74 against 122, 42 of them fresh for each identifier) cost nothing that
 * access rests on. Identifiers that must not be guessed at all — tokens, secrets — are not
 * made here.
 */
import { v7 } from 'uuid';

export function newRowId(): string {
  return v7();
}
