import type { Logger } from '../../../ports/logger.ts';
import type { RecordedEvent, Subscription } from '../../../ports/eventStore.ts';
import type { LiveFeed } from './liveFeeds.ts';
import { isTransient, toPortError } from './errors.ts';
import { backoffMs, Feed, sleep } from './feed.ts';
import { iterateBatches } from '../batches.ts';

/**
 * Catch-up subscription to $all over ESDB's subscribeToAll. A pump consumes the SDK stream with
 * `for await` into a bounded feed; the port pulls batches from the feed. When the connection
 * drops, the pump resubscribes from the last position it saw, with exponential backoff, so the
 * consumer sees neither a gap nor a duplicate.
 */
export class EsdbCatchUpSubscription implements Subscription<RecordedEvent> {
  private readonly feed = new Feed<RecordedEvent>();
  private closed = false;
  private current: LiveFeed<RecordedEvent> | undefined;
  private readonly stopped: Promise<void>;
  private stop!: () => void;
  private readonly done: Promise<void>;

  constructor(
    private readonly open: (after: number) => LiveFeed<RecordedEvent>,
    private readonly matches: (e: RecordedEvent) => boolean,
    private position: number,
    private readonly logger: Logger | undefined,
  ) {
    this.stopped = new Promise((resolve) => (this.stop = resolve));
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        this.current = this.open(this.position);
        for await (const e of this.current.events) {
          attempt = 0;
          // The SDK's start position may be inclusive; what we already handed out stays handed out.
          if (e.position <= this.position) continue;
          this.position = e.position;
          if (this.matches(e)) await this.feed.push(e);
          if (this.closed) break;
        }
        if (this.closed) break;
        throw new Error('subscription ended by the server');
      } catch (error) {
        if (this.closed) break;
        if (!isTransient(error) && !(error instanceof Error && error.message === 'subscription ended by the server')) {
          this.feed.fail(toPortError(error));
          return;
        }
        const delayMs = backoffMs(attempt++);
        this.logger?.warn({ err: error, position: this.position, delayMs, attempt }, 'EventStoreDB catch-up subscription dropped; resubscribing');
        await this.current?.stop().catch(() => undefined);
        await sleep(delayMs, this.stopped);
      }
    }
    this.feed.end();
  }

  nextBatch(max: number): Promise<RecordedEvent[]> {
    return this.feed.take(max);
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return iterateBatches(this, 256);
  }

  /** What was received but not taken is dropped: after close, nextBatch gives nothing (the port's rule). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.feed.clear();
    this.feed.end();
    await this.current?.stop().catch(() => undefined);
    await this.done.catch(() => undefined);
  }
}
