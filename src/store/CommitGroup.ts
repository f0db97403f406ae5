/**
 * Group commit for SQLite. SQLite has one writer, and every commit is durable only once the
 * write-ahead log is synced to disk; one transaction per unit of work makes the disk, not
 * the work, set the pace. Units that arrive while a group is being written
 * wait and then run together, each in its own savepoint of one transaction, and share its
 * commit:
 *
 * - a unit that fails is rolled back to its savepoint and rejected; the others go on —
 *   unless SQLite has ended the whole transaction under it (a full disk, an I/O error):
 *   then every unit of the group is rejected with that unit's error;
 * - if the commit itself fails, every unit of the group is rejected (nothing was written);
 * - a unit is resolved only after the commit that holds it, so "resolved" still means
 *   "on disk";
 * - better-sqlite3 runs each statement synchronously, so a transaction runs from BEGIN
 *   to COMMIT without the event loop turning; units are therefore gathered until the
 *   loop's current turn ends (`setImmediate`): the requests and jobs whose input arrived
 *   together (typically while the previous commit waited for the disk) commit together;
 * - a group of one unit runs without a savepoint: a quiet service pays nothing for the
 *   grouping but the wait for the end of the current turn;
 * - a group holds at most `maxUnits`, and the event loop turns between groups: the
 *   statements run on the main thread, and a long run of them would hold up every socket
 *   and file operation waiting for it.
 *
 * Units run one after the other, in arrival order, exactly as separate transactions on
 * one connection would: each sees the writes of those before it.
 *
 * With the log synced off the main thread (WalSync.ts, the service's databases), a group's
 * COMMIT returns without waiting for the disk and the next group runs while the log is
 * synced; the group's units are resolved once a sync that began after its COMMIT is done.
 */
import type { Knex } from 'knex';
import { execute, prepared } from './Prepared.js';
import { walSyncOf, type WalSync } from './WalSync.js';

/**
 * A grouped unit's savepoint, run as prepared statements on the group's transaction: not
 * knex's nested transactions, which built a transaction object and three statements' worth
 * of queries for every unit (the group's transaction is knex's, and so are a unit's own
 * nested transactions).
 */
const SAVEPOINT = prepared('unit_savepoint', 'SAVEPOINT unit');
const RELEASE = prepared('unit_release', 'RELEASE unit');
const ROLLBACK_TO = prepared('unit_rollback_to', 'ROLLBACK TO unit');

interface Unit {
  work: (trx: Knex.Transaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class CommitGroup {
  private queue: Unit[] = [];
  private draining = false;
  /** commits made and units committed (for metrics and tests) */
  readonly stats = { commits: 0, units: 0, largest: 0 };

  private readonly wal: WalSync | undefined;

  constructor(
    private readonly db: Knex,
    private readonly maxUnits = 32,
  ) {
    this.wal = walSyncOf(db);
  }

  run<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0, this.maxUnits);
        if (group.length === 1) await this.alone(group[0]!);
        else await this.together(group);
        this.stats.commits++;
        this.stats.units += group.length;
        this.stats.largest = Math.max(this.stats.largest, group.length);
        // let the I/O that waited while the group ran in before the next group
        if (this.queue.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.draining = false;
    }
  }

  private async alone(unit: Unit): Promise<void> {
    let value: unknown;
    let failed: { error: unknown } | undefined;
    try {
      value = await this.db.transaction(async (trx) => {
        let v: unknown;
        try {
          v = await unit.work(trx);
        } catch (error) {
          failed = { error };
          throw error;
        }
        this.wal?.deferCommit();
        return v;
      });
    } catch (err) {
      // the unit's own error, even when knex's ROLLBACK then failed (SQLite had ended the
      // transaction itself: a full disk, an I/O error), so its code still says what happened
      unit.reject(failed ? failed.error : err);
      return;
    } finally {
      this.wal?.cancelDefer();
    }
    this.whenDurable([unit], [{ ok: true, value }]);
  }

  private async together(group: Unit[]): Promise<void> {
    const outcomes: Outcome[] = [];
    /** the error of the unit under which SQLite ended the transaction */
    let ended: { error: unknown } | undefined;
    try {
      await this.db.transaction(async (trx) => {
        for (const unit of group) {
          await execute(trx, SAVEPOINT, []);
          let outcome: Outcome;
          try {
            outcome = { ok: true, value: await unit.work(trx) };
          } catch (error) {
            outcome = { ok: false, error };
            try {
              await execute(trx, ROLLBACK_TO, []);
            } catch {
              // SQLite ended the whole transaction itself (a full disk, an I/O error): the
              // group's units before this one are undone too, so the group fails with its error
              ended = { error };
              throw error;
            }
          }
          await execute(trx, RELEASE, []);
          outcomes.push(outcome);
        }
        this.wal?.deferCommit();
      });
    } catch (err) {
      // (knex's own ROLLBACK then fails too: there is no transaction left to roll back)
      for (const unit of group) unit.reject(ended ? ended.error : err);
      return;
    } finally {
      this.wal?.cancelDefer();
    }
    this.whenDurable(group, outcomes);
  }

  /**
   * Settles the units of a group that has committed, once its commit is on disk (at once
   * without WalSync: the COMMIT waited for it). A failed sync fails the units that had
   * succeeded: their commit may or may not be on disk.
   */
  private whenDurable(group: Unit[], outcomes: Outcome[]): void {
    const settle = (syncError?: { error: unknown }) =>
      group.forEach((unit, i) => {
        const o = outcomes[i]!;
        if (!o.ok) unit.reject(o.error);
        else if (syncError) unit.reject(syncError.error);
        else unit.resolve(o.value);
      });
    if (!this.wal) return settle();
    this.wal.durable().then(
      () => settle(),
      (error: unknown) => settle({ error }),
    );
  }
}
