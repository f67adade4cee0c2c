import type { RecordedEvent, Subscription } from '../../../ports/eventStore.ts';
import type { Signal } from './signal.ts';
import { iterateBatches } from '../batches.ts';

/** Reads up to `max` matching events after `from`; `scannedTo` is how far the read looked. */
export type PageReader = (from: number, max: number) => { events: RecordedEvent[]; scannedTo: number };

/** Catch-up subscription: pages through history, then waits for commits and keeps reading. */
export class CatchUpSubscription implements Subscription<RecordedEvent> {
  private closed = false;

  constructor(
    private readonly readPage: PageReader,
    /** Notified when a commit may hold events for this subscription (see wakes.ts). */
    private readonly committed: { signal: Signal; remove(): void },
    private position: number,
  ) {}

  async nextBatch(max: number): Promise<RecordedEvent[]> {
    while (!this.closed) {
      const { events, scannedTo } = this.readPage(this.position, max);
      this.position = Math.max(this.position, scannedTo);
      if (events.length > 0) return events;
      await this.committed.signal.wait();
    }
    return [];
  }

  [Symbol.asyncIterator](): AsyncIterator<RecordedEvent> {
    return iterateBatches(this, 256);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.committed.remove();
    this.committed.signal.notify();
  }
}
