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
   * Resolves true once `n` tokens are taken; a request larger than the bucket waits for a full one.
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
        this.tokens -= need;
        return true;
      }
      await pause(Math.ceil(((need - this.tokens) / this.ratePerSecond) * 1000), signal, this.waiting);
    }
  }

  /**
   * Gives back the tokens of the `unsent` sends, out of the `taken` of one take, that did not
   * happen (jobs dropped once their turn came): the next send need not wait for a slot nothing used, so the
   * takes waiting look again now rather than at the end of the wait each worked out before. The
   * bucket ends as if only the sends that happen had been taken, never with more: a take larger
   * than the bucket paid only a full bucket, so giving back one token per unsent message would
   * hand the sends that do happen their tokens back, and let the rate be exceeded.
   */
  giveBack(unsent: number, taken: number): void {
    const sent = taken - Math.min(Math.max(unsent, 0), taken);
    const back = Math.min(taken, this.capacity) - Math.min(sent, this.capacity);
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
