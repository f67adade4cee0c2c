/**
 * Token bucket: at most `ratePerSecond` sends on average, with bursts up to one second's worth.
 * Protects a provider account (e.g. Twilio's per-sender limits) from our own backlog.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = ratePerSecond;
    this.last = this.now();
  }

  /** Resolves when `n` tokens are available; a request larger than the bucket waits for a full one. */
  async take(n: number): Promise<void> {
    for (;;) {
      const t = this.now();
      this.tokens = Math.min(this.ratePerSecond, this.tokens + ((t - this.last) / 1000) * this.ratePerSecond);
      this.last = t;
      const need = Math.min(n, this.ratePerSecond);
      if (this.tokens >= need) {
        this.tokens -= need;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.tokens) / this.ratePerSecond) * 1000)));
    }
  }
}
