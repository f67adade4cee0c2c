import type Database from 'better-sqlite3';
import type { WriteLock } from './writeLock.ts';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: every write asked for during one turn of the event loop runs in a single
 * transaction, so N concurrent appends cost one fsync instead of N. Each job runs in its own
 * savepoint, so one failing job (a revision conflict) rolls back alone and the rest commit.
 */
export class WriteQueue {
  private jobs: Job[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Database.Database,
    private readonly onCommitted: () => void,
    /** Shared with the other thread writing this file, when there is one. */
    private readonly lock?: WriteLock,
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
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      // IMMEDIATE takes the write lock up front: another connection on the file (the other
      // thread's instance) then makes this wait (busy_timeout) instead of failing a read-then-write.
      const commit = () => this.db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.db.transaction(job.run)() });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
      }).immediate();
      if (this.lock) this.lock.hold(commit);
      else commit();
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome?.value);
    });
    this.onCommitted();
  }
}
