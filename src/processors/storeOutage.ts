import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreUnavailableError } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { LogEvery } from '../logEvery.ts';

/**
 * How a delivery worker rides out an event store that cannot record anything for a while (a full
 * disk, EventStoreDB away): such an error says nothing about the notification, so it is neither
 * parked nor, once the provider has answered, sent again. Waits double from 1 s to 30 s, under the
 * group's message timeout (at least 60 s), so an event held through one wait is not handed out meanwhile.
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

/** A worker's warnings about an outage: the first, then at most one a minute (logEvery.ts), counting the waits in between. */
export class OutageWarnings {
  private readonly every: LogEvery;

  constructor(
    private readonly log: Logger,
    everyMs = 60_000,
  ) {
    this.every = new LogEvery(everyMs);
  }

  warn(fields: Record<string, unknown>, message: string): void {
    const waits = this.every.due();
    if (waits > 0) this.log.warn({ ...fields, waitsSinceLastWarning: waits }, `${message} (warned once a minute while the outage lasts)`);
  }
}
