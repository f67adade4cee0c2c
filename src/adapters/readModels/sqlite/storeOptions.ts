/** How the embedded read-model store is opened: where its commits are written. */

export interface SqliteReadModelOptions {
  /**
   * Commits are written by a thread of their own (commitThread.ts), on its own connection: the
   * caller only serializes the documents, and its commit resolves once they are written. For bulk
   * writers that keep a commit in flight while they compute the next (rebuilds, see buildPass.ts),
   * this puts SQLite's share of the work on another core. Reads on this connection do not wait for
   * a commit in flight: await it first.
   */
  commitThread?: boolean;
  /**
   * With a commit thread: a commit of at most this many documents, with none in flight, is
   * written on the caller's thread, which spares it the hand-over (default 64; 0: none is).
   */
  inlineCommitDocs?: number;
}

/**
 * How a bulk writer opens the store (replay: `npm run replay` through openStores, and the bench's
 * replay): every commit on the commit thread. A rebuild stream by stream commits small pages,
 * which would otherwise be written on the caller's thread whenever the commit thread is idle.
 */
export const BULK_WRITER_OPTIONS: SqliteReadModelOptions = { commitThread: true, inlineCommitDocs: 0 };
