/**
 * Token bucket: at most `ratePerSecond` sends on average, with bursts up to one second's worth
 * (at least one send: a rate under one a second, one SMS every two seconds, holds one token).
 * Protects a provider account (e.g. Twilio's per-sender limits) from our own backlog; one per
 * route, shared by its lanes, so that high priority does not double the rate.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;
  private readonly capacity: number;
  /** Wakes the takes waiting for tokens, to look again (tokens were given back). */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /**
   * The most sends one take may pay for and still keep the rate: a second's worth (at least one).
   * A batch larger than this goes out in chunks of it (batchSend.ts), one take each.
   */
  get largestTake(): number {
    return Math.max(1, Math.floor(this.capacity));
  }

  /**
   * Resolves true once `n` tokens are taken. A take larger than the bucket waits for a full bucket
   * and leaves it owing the rest, so the takes after it wait until the whole amount has come in:
   * over time the rate holds whatever the size. Within that second it does not (all `n` go at
   * once), which is why senders split at `largestTake`.
   * Resolves false at once, taking nothing, when `signal` aborts (or has): a stopping worker hands
   * back what it has not sent rather than wait its turn, and leaves the tokens to the other lane.
   */
  async take(n: number, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      const t = this.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
      this.last = t;
      const need = Math.min(n, this.capacity);
      if (this.tokens >= need) {
        this.tokens -= n;
        return true;
      }
      await pause(Math.ceil(((need - this.tokens) / this.ratePerSecond) * 1000), signal, this.waiting);
    }
  }

  /**
   * Gives back the tokens of the `unsent` sends, out of the `taken` of one take, that did not
   * happen (jobs dropped once their turn came): the next send need not wait for a slot nothing
   * used, so the takes waiting look again now rather than at the end of the wait each worked out
   * before. The take paid one token per send (a large one by owing them), so the bucket ends as if
   * only the sends that happen had been taken, never with more than it holds.
   */
  giveBack(unsent: number, taken: number): void {
    const back = Math.min(Math.max(unsent, 0), taken);
    if (back <= 0) return;
    this.tokens = Math.min(this.capacity, this.tokens + back);
    for (const wake of [...this.waiting]) wake();
  }
}

/** Waits `ms`, or less when `signal` aborts or it is woken (through `wakers`); either way leaves neither the timer, the listener nor the waker behind. */
function pause(ms: number, signal: AbortSignal | undefined, wakers: Set<() => void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      wakers.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    wakers.add(done);
  });
}
