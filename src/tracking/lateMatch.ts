/**
 * Provider events that arrive before their send is known. A Twilio status callback or a SendGrid
 * event can reach Herald before the NotificationSent that carries the provider's message id is
 * appended (the provider answers the send, then Herald records it), or before the
 * provider_messages read model has it (the projector trails the log by up to
 * HERALD_PROJECTOR_MAX_PAUSE_MS under load). Such an event is stored as unmatched at once, so it is
 * never lost, and tried again here after each of `delaysMs`; a match records the fact and marks
 * the stored event matched, as POST /v1/tracking/unmatched/retry does. Pending tries live in memory:
 * after a restart, or past `maxPending`, what is still open is left to that endpoint.
 */
import type { Logger } from '../ports/logger.ts';
import type { OpenUnmatched } from '../domain/providerEvents.ts';
import { settleUnmatched, type TrackingContext } from './ingest.ts';

export interface LateMatchOptions {
  /** Waits before each try, each counted from the one before. */
  delaysMs: readonly number[];
  /** Events tried again at most at once; past it, new ones are left to the retry endpoint. */
  maxPending: number;
}

/** About 3 minutes in all: well past the projector's pause and a slow provider's answer. */
export const LATE_MATCH: LateMatchOptions = { delaysMs: [250, 1_000, 5_000, 30_000, 150_000], maxPending: 10_000 };

export class LateMatcher {
  private readonly timers = new Set<NodeJS.Timeout>();
  private full = false;
  private closed = false;

  constructor(
    private readonly ctx: TrackingContext,
    private readonly logger: Logger,
    private readonly options: LateMatchOptions = LATE_MATCH,
  ) {}

  /** Events still waiting for a try. */
  get pending(): number {
    return this.timers.size;
  }

  /** Tries the unmatched event stored at `revision` of the provider's stream again, later. */
  later(provider: string, unmatched: OpenUnmatched): void {
    if (!unmatched.data.providerMessageId && !unmatched.data.notificationId) return;
    if (this.timers.size >= this.options.maxPending) {
      if (!this.full) this.logger.warn({ pending: this.timers.size }, 'too many unmatched provider events waiting for their send; further ones are stored and left to POST /v1/tracking/unmatched/retry');
      this.full = true;
      return;
    }
    this.full = false;
    this.schedule(provider, unmatched, 0);
  }

  private schedule(provider: string, unmatched: OpenUnmatched, attempt: number): void {
    const delay = this.options.delaysMs[attempt];
    // A try still running when the stores close must not schedule another.
    if (delay === undefined || this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(provider, unmatched, attempt);
    }, delay);
    timer.unref();
    this.timers.add(timer);
  }

  private async attempt(provider: string, unmatched: OpenUnmatched, attempt: number): Promise<void> {
    try {
      const notificationId = await settleUnmatched(this.ctx, provider, unmatched);
      if (notificationId) {
        this.logger.debug({ provider, revision: unmatched.revision, notificationId, attempt: attempt + 1 }, 'provider event matched once its send was known');
        return;
      }
    } catch (error) {
      this.logger.warn({ err: error, provider, revision: unmatched.revision }, 'trying an unmatched provider event again failed; it stays stored');
    }
    this.schedule(provider, unmatched, attempt + 1);
  }

  /** Drops the tries still waiting: their events stay stored, open for the retry endpoint. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
