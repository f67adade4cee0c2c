/**
 * A consumer of one of the embedded store's persistent subscription groups (persistentGroups.ts
 * connects them; persistentGroup.ts holds what the group hands out and to whom).
 */
import { EventNotHeldError, type NackAction, type PersistentEvent, type PersistentSubscription } from '../../../ports/eventStore.ts';
import { iterateBatches } from '../batches.ts';
import type { PersistentGroup } from './persistentGroup.ts';

const NOT_HELD = 'this consumer did not take it, settled it already, or held it past the message timeout';

/** One competing consumer: pulls from its group, waiting on commits and on room in flight. */
export class GroupConsumer implements PersistentSubscription {
  private closed = false;
  private taking = true;

  constructor(
    private readonly id: number,
    private readonly group: PersistentGroup,
    private readonly onClose: (c: GroupConsumer) => void,
  ) {}

  async nextBatch(max: number): Promise<PersistentEvent[]> {
    while (!this.closed && this.taking) {
      const taken = this.group.take(this.id, max, Date.now());
      if (taken.length > 0) return taken.map((e) => ({ event: e.event, retryCount: e.retryCount }));
      await this.group.changed.wait();
    }
    return [];
  }

  [Symbol.asyncIterator](): AsyncIterator<PersistentEvent> {
    return iterateBatches(this, 1);
  }

  /** Once closed, its events were handed back: settling one now could settle another consumer's hold. */
  async ack(e: PersistentEvent): Promise<void> {
    if (this.closed) throw new EventNotHeldError(e.event.position, 'this consumer was closed');
    if (!this.group.settle(this.id, e.event.position, 'ack', '')) throw new EventNotHeldError(e.event.position, NOT_HELD);
  }

  async nack(action: NackAction, reason: string, e: PersistentEvent): Promise<void> {
    if (this.closed) throw new EventNotHeldError(e.event.position, 'this consumer was closed');
    if (!this.group.settle(this.id, e.event.position, action, reason)) throw new EventNotHeldError(e.event.position, NOT_HELD);
  }

  /** What it holds stays its own until settled or closed; what it has not taken is the others'. */
  async stopTaking(): Promise<void> {
    this.taking = false;
    this.group.changed.notify();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.group.expire(Date.now(), this.id);
    this.onClose(this);
    this.group.changed.notify();
  }
}
