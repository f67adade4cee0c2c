import type { EventFilter } from '../../../ports/eventFilter.ts';
import { Signal } from './signal.ts';

/**
 * A reader that commits passed over (none of its types) still looks again this often, so its
 * read cursor follows the head while its events are rare and its next read stays short.
 */
export const PASSED_OVER_LOOK_MS = 200;

/** Whether a commit of events of these types may hold events for a reader with this filter. */
function mayConcern(filter: EventFilter | undefined, types: readonly string[]): boolean {
  const wanted = filter?.eventTypes;
  return !wanted || types.some((type) => wanted.includes(type));
}

interface Waiter {
  /** Read at each commit: a group's settings (and filter) may change while it runs. */
  filter: () => EventFilter | undefined;
  signal: Signal;
}

/**
 * Who looks again after a commit: catch-up subscriptions and persistent subscription groups. A
 * commit wakes only the readers whose filter takes one of its event types; each wake is a query,
 * and most commits are of types that most readers never take (the workers' Sent appends reach no
 * delivery group, the API's requests never reach the API's app-key cache).
 */
export class Wakes {
  private readonly waiters = new Set<Waiter>();
  private readonly passedOver = new Set<Signal>();
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      for (const signal of this.passedOver) signal.notify();
      this.passedOver.clear();
    }, PASSED_OVER_LOOK_MS);
    this.timer.unref();
  }

  /** Notifies `signal` for commits that may concern `filter`; `remove` when the reader is closed. */
  add(filter: () => EventFilter | undefined, signal = new Signal()): { signal: Signal; remove(): void } {
    const waiter: Waiter = { filter, signal };
    this.waiters.add(waiter);
    return {
      signal: waiter.signal,
      remove: () => {
        this.waiters.delete(waiter);
        this.passedOver.delete(waiter.signal);
      },
    };
  }

  /** Events of these types were committed. */
  committed(types: readonly string[]): void {
    if (types.length === 0) return;
    for (const { filter, signal } of this.waiters) {
      if (mayConcern(filter(), types)) signal.notify();
      else this.passedOver.add(signal);
    }
  }

  /** Wakes every reader (closing), and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    for (const { signal } of this.waiters) signal.notify();
  }
}
