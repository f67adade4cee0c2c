import type { EventFilter } from '../../../ports/eventStore.ts';
import { Signal } from './signal.ts';

/**
 * A reader that commits passed over (none of its types) still looks again this often, so its
 * read cursor follows the head while its events are rare and its next read stays short.
 */
export const PASSED_OVER_LOOK_MS = 200;

/** Whether a commit of events of these types may hold events for a reader with this filter. */
export function mayConcern(filter: EventFilter | undefined, types: readonly string[]): boolean {
  const wanted = filter?.eventTypes;
  return !wanted || types.some((type) => wanted.includes(type));
}

interface Waiter {
  filter: EventFilter | undefined;
  signal: Signal;
}

/**
 * The catch-up subscriptions' wake-ups. A commit wakes only the subscriptions whose filter takes
 * one of its event types; each wake is a query, and most commits (the workers' Sent appends, the
 * API's requests) are of types that a subscription such as the API's app-key cache never takes.
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

  /** A signal for one reader with this filter; `remove` when it is closed. */
  add(filter: EventFilter | undefined): { signal: Signal; remove(): void } {
    const waiter: Waiter = { filter, signal: new Signal() };
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
      if (mayConcern(filter, types)) signal.notify();
      else this.passedOver.add(signal);
    }
  }

  /** Wakes every reader (closing), and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    for (const { signal } of this.waiters) signal.notify();
  }
}
