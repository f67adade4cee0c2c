import type Database from 'better-sqlite3';
import type { WriteLock } from './writeLock.ts';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface TurnBatchOptions {
  /** 'immediate' takes SQLite's write lock up front (writes); 'deferred' is a read snapshot. */
  begin: 'immediate' | 'deferred';
  /**
   * Errors after which a job has written nothing (it checks before it writes, as an append checks
   * its expected revision): that job fails alone and the others commit. Any other error rolls back
   * the whole batch and fails every job in it. (A SAVEPOINT per job would let any job fail alone,
   * but costs two more statements each: an append took 11–12 µs with one, 6 µs without.)
   * Absent: every error fails its job alone, which is right only for jobs that write nothing.
   */
  failsAlone?: (error: unknown) => boolean;
  /** Shared with the other thread writing this file, when there is one. */
  lock?: WriteLock;
  /**
   * Called after a COMMIT that ran at least one job, with the function that settles the jobs; it
   * may defer them (until the commit is on disk) or fail them all. Absent: they settle at once.
   */
  afterCommit?: (settle: (error?: Error) => void) => void;
  /** What the jobs are failed with when the transaction as a whole fails (a full disk: unwritable.ts). Absent: the error itself. */
  failure?: (error: unknown) => unknown;
}

/**
 * Everything asked for during one turn of the event loop runs in one SQLite transaction.
 *
 * Writes (group commit): N concurrent appends cost one commit and one fsync instead of N (the
 * event store does the fsync after COMMIT, off the event loop: see durability.ts).
 * IMMEDIATE takes the write lock up front, so another connection on the file (the other
 * thread's store) makes this one wait instead of failing a read-then-write.
 *
 * Reads: when another connection has committed since this one last read, SQLite drops this
 * connection's whole page cache at the start of its next read transaction; with the other thread
 * committing every few milliseconds that happened on nearly every read. One transaction for the
 * turn's reads pays that once, and every read in it sees the same snapshot.
 */
export class TurnBatch {
  private jobs: Job[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Database.Database,
    private readonly options: TurnBatchOptions,
  ) {}

  enqueue<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Runs what is queued now; also called on close so nothing accepted is dropped. */
  flush(): void {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 0) return;
    if (!this.db.open) {
      for (const job of jobs) job.reject(new Error('the event store is closed'));
      return;
    }
    const { begin, failsAlone = () => true, lock, afterCommit } = this.options;
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const all = this.db.transaction(() => {
      for (const job of jobs) {
        try {
          outcomes.push({ ok: true, value: job.run() });
        } catch (error) {
          if (!failsAlone(error)) throw error;
          outcomes.push({ ok: false, value: error });
        }
      }
    });
    try {
      const commit = () => (begin === 'immediate' ? all.immediate() : all.deferred());
      if (lock) lock.hold(commit);
      else commit();
    } catch (error) {
      const failure = this.options.failure ? this.options.failure(error) : error;
      for (const job of jobs) job.reject(failure);
      return;
    }
    const settle = (error?: Error): void =>
      jobs.forEach((job, i) => (error ? job.reject(error) : outcomes[i]?.ok ? job.resolve(outcomes[i].value) : job.reject(outcomes[i]?.value)));
    if (afterCommit) afterCommit(settle);
    else settle();
  }
}
