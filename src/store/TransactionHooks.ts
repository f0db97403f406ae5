/**
 * What a repository may ask of the transaction it writes in: to be told how it ended.
 * Repositories.transaction calls the hooks once the outcome is known:
 *
 * - `committed` after the COMMIT was answered (outside a transaction: at once, the
 *   statement has committed already);
 * - `failed(false)` when the writes certainly did not happen (a savepoint rolled back);
 * - `failed(true)` when the transaction reported a failure that may hide a commit: the
 *   work threw and was rolled back, or the COMMIT was carried out and its answer lost
 *   with the connection; the caller cannot tell which.
 *
 * A savepoint that succeeds hands its hooks to the enclosing transaction, whose outcome
 * is theirs. Hooks run in the order they were registered; they should not throw.
 */
export interface TransactionHooks {
  committed?(): void;
  failed?(maybeCommitted: boolean): void;
}

export interface TransactionScope {
  afterTransaction(hooks: TransactionHooks): void;
}

/** Outside any transaction: every statement has committed once it is answered. */
export const AUTOCOMMIT: TransactionScope = {
  afterTransaction: (hooks) => hooks.committed?.(),
};
