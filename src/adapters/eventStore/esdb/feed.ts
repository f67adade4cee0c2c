/**
 * A bounded hand-off between a pump (an internal `for await` over a gRPC stream) and the port's
 * pull API. `push` waits while the buffer is full, so a slow consumer slows the gRPC stream
 * (HTTP/2 flow control) instead of growing memory without bound.
 */
export class Feed<T> {
  private items: T[] = [];
  private failure: { error: unknown } | undefined;
  private ended = false;
  private readers: (() => void)[] = [];
  private writers: (() => void)[] = [];

  constructor(private readonly highWaterMark = 1024) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.highWaterMark && !this.ended) {
      await new Promise<void>((resolve) => this.writers.push(resolve));
    }
    if (this.ended) return;
    this.items.push(item);
    this.wake('readers');
  }

  /** Drops what is buffered and not yet taken (`take` then waits, or returns [] once ended). */
  clear(): void {
    this.items = [];
    this.wake('writers');
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.end();
  }

  end(): void {
    this.ended = true;
    this.wake('readers');
    this.wake('writers');
  }

  /** Waits for at least one item; returns up to `max`; [] once ended; throws a pump failure. */
  async take(max: number): Promise<T[]> {
    while (this.items.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => this.readers.push(resolve));
    }
    // Events arrive one gRPC message at a time: let those already received land before cutting
    // the batch, so a batch holds "whatever is ready", not just the first event.
    while (this.items.length > 0 && this.items.length < max && !this.ended) {
      const before = this.items.length;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.items.length === before) break;
    }
    if (this.items.length > 0) {
      const batch = this.items.splice(0, Math.max(1, max));
      this.wake('writers');
      return batch;
    }
    if (this.failure) throw this.failure.error;
    return [];
  }

  private wake(who: 'readers' | 'writers'): void {
    const waiting = this[who];
    this[who] = [];
    for (const resolve of waiting) resolve();
  }
}

/** Exponential backoff for resubscribing: 100 ms, doubling, capped at 5 s. */
export function backoffMs(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 5000);
}

/** Sleeps `ms`, or less when `cancelled` resolves first (close() must not wait out a backoff). */
export function sleep(ms: number, cancelled: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), cancelled]).finally(() => clearTimeout(timer));
}
