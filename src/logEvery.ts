/**
 * How often a recurring log line is written: the first at once, then at most one per interval,
 * counting the occurrences each stands for. Through an outage (a full disk, a store away) the same
 * error comes with every request and every event in flight; a line for each would be thousands a
 * minute, written perhaps onto the disk that is full.
 */
export class LogEvery {
  private lastAt = 0;
  private count = 0;

  constructor(private readonly everyMs = 60_000) {}

  /** How many occurrences this one stands for (itself and those not logged since) if it is to be logged; else 0. */
  due(): number {
    this.count += 1;
    const now = Date.now();
    if (this.lastAt !== 0 && now - this.lastAt < this.everyMs) return 0;
    this.lastAt = now;
    const standsFor = this.count;
    this.count = 0;
    return standsFor;
  }
}
