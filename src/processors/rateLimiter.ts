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

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.last = this.now();
  }

  /** Resolves when `n` tokens are available; a request larger than the bucket waits for a full one. */
  async take(n: number): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
      this.last = t;
      const need = Math.min(n, this.capacity);
      if (this.tokens >= need) {
        this.tokens -= need;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.tokens) / this.ratePerSecond) * 1000)));
    }
  }
}
