/** How long an entry the decider refused is left alone before it is read again. */
const REFUSED_MS = 60_000;
/** The longest wait between two tries of an entry whose stream fails. */
const MAX_BACKOFF_MS = 5 * 60_000;
/** Entries remembered at most; past it the scheduler simply tries the rest at every tick. */
const CAPACITY = 10_000;

interface Held {
  until: number;
  failures: number;
}

/**
 * The scheduler's memory of due entries it should not try at every tick: refused ones (the
 * decider had nothing to do) and failing ones (backoff doubling from one tick to five minutes).
 * In memory only: after a restart each is tried once more, which the decider makes harmless.
 */
export class HeldBack {
  private readonly held = new Map<string, Held>();

  constructor(private readonly firstBackoffMs: number) {}

  get size(): number {
    return this.held.size;
  }

  holds(key: string, nowMs: number): boolean {
    const entry = this.held.get(key);
    return entry !== undefined && entry.until > nowMs;
  }

  refused(key: string, nowMs: number): void {
    this.hold(key, { until: nowMs + REFUSED_MS, failures: 0 });
  }

  /** `first`: the first failure of this entry in a row, the one worth a log line. */
  failed(key: string, nowMs: number): { first: boolean; retryInMs: number } {
    const failures = (this.held.get(key)?.failures ?? 0) + 1;
    const retryInMs = Math.min(this.firstBackoffMs * 2 ** (failures - 1), MAX_BACKOFF_MS);
    this.hold(key, { until: nowMs + retryInMs, failures });
    return { first: failures === 1, retryInMs };
  }

  /** Forgets the entry; true when it had failed before. */
  release(key: string): boolean {
    const failures = this.held.get(key)?.failures ?? 0;
    this.held.delete(key);
    return failures > 0;
  }

  keepOnly(keys: ReadonlySet<string>): void {
    for (const key of this.held.keys()) if (!keys.has(key)) this.held.delete(key);
  }

  private hold(key: string, entry: Held): void {
    if (this.held.has(key) || this.held.size < CAPACITY) this.held.set(key, entry);
  }
}
