import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreUnavailableError } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';

/**
 * How a delivery worker rides out an event store that cannot record anything for a while (a full
 * disk, EventStoreDB away): such an error says nothing about the notification, so it is neither
 * parked nor, once the provider has answered, sent again. Waits double from 1 s to 30 s, under the
 * group's message timeout (60 s), so an event held through one wait is not handed out meanwhile.
 */
export const isStoreOutage = (error: unknown): error is EventStoreUnavailableError => error instanceof EventStoreUnavailableError;

export const outageWaitMs = (tries: number): number => Math.min(1_000 * 2 ** tries, 30_000);

/** Waits, unless the worker is stopping; false when it is. */
export async function waitOutOutage(ms: number, stopping: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: stopping });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `attempt` until it gets through without a store outage, waiting between tries (and telling
 * `waiting` first). Any other error, or an outage while the worker is stopping, is thrown.
 */
export async function throughOutages<T>(attempt: (tries: number) => Promise<T>, stopping: AbortSignal, waiting: (error: EventStoreUnavailableError, ms: number) => void): Promise<T> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(tries);
    } catch (error) {
      if (!isStoreOutage(error) || stopping.aborted) throw error;
      const ms = outageWaitMs(tries);
      waiting(error, ms);
      if (!(await waitOutOutage(ms, stopping))) throw error;
    }
  }
}

/**
 * A worker's warnings about an outage: the first, then at most one a minute, counting the waits
 * in between. Each event in flight waits on its own, so one line per wait would be hundreds a
 * minute through an outage, onto a disk that may be the full one.
 */
export class OutageWarnings {
  private lastAt = 0;
  private waits = 0;

  constructor(
    private readonly log: Logger,
    private readonly everyMs = 60_000,
  ) {}

  warn(fields: Record<string, unknown>, message: string): void {
    this.waits += 1;
    const now = Date.now();
    if (this.lastAt !== 0 && now - this.lastAt < this.everyMs) return;
    this.log.warn({ ...fields, waitsSinceLastWarning: this.waits }, `${message} (warned once a minute while the outage lasts)`);
    this.lastAt = now;
    this.waits = 0;
  }
}
