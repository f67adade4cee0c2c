/**
 * A write lock shared by the threads of one process that write the same SQLite file (the API's
 * and the delivery thread's event store). SQLite serialises writers itself, but a writer that
 * finds the file locked sleeps in its busy handler for 1, 2, 5, 10… ms, far longer than a commit
 * takes here (≈0.2 ms). Waiting on this lock instead wakes the moment the other thread commits.
 *
 * It only shortens waits: SQLite's own locking still guarantees correctness, so a lock not
 * released within `maxWaitMs` (a thread killed mid-commit) is ignored, not waited on forever.
 */
export class WriteLock {
  private readonly cell: Int32Array;

  constructor(
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4),
    private readonly maxWaitMs = 5000,
  ) {
    this.cell = new Int32Array(buffer);
  }

  /** Runs `body` holding the lock; blocks this thread while the other thread holds it. */
  hold<T>(body: () => T): T {
    const deadline = Date.now() + this.maxWaitMs;
    let held = false;
    while (!(held = Atomics.compareExchange(this.cell, 0, 0, 1) === 0) && Date.now() < deadline) Atomics.wait(this.cell, 0, 1, 50);
    try {
      return body();
    } finally {
      if (held) {
        Atomics.store(this.cell, 0, 0);
        Atomics.notify(this.cell, 0, 1);
      }
    }
  }
}
