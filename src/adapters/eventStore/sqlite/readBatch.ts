import type Database from 'better-sqlite3';

interface Read {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Stream reads asked for during one turn of the event loop run in a single read transaction.
 * When another connection (the other thread's store) has committed since this one last read,
 * SQLite drops this connection's whole page cache at the start of the next read transaction;
 * with a commit every few milliseconds that happened on nearly every read. One transaction for
 * the turn's reads pays that once, and every read in it sees the same snapshot.
 */
export class ReadBatch {
  private reads: Read[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  run<T>(read: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.reads.push({ run: read, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const reads = this.reads;
    this.reads = [];
    if (!this.db.open) {
      for (const read of reads) read.reject(new Error('the event store is closed'));
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.transaction(() => {
        for (const read of reads) {
          try {
            outcomes.push({ ok: true, value: read.run() });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
      })();
    } catch (error) {
      for (const read of reads) read.reject(error);
      return;
    }
    reads.forEach((read, i) => (outcomes[i]?.ok ? read.resolve(outcomes[i].value) : read.reject(outcomes[i]?.value)));
  }
}
