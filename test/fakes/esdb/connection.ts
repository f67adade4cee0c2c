/**
 * Test fixture, not product: one consumer's Read call to a persistent subscription group of the
 * EventStoreDB gRPC test server. It holds at most its bufferSize unacknowledged events and takes
 * one event at a time from the group, so connected consumers share the work round-robin.
 */
import type grpc from '@grpc/grpc-js';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { NackAction, PersistentEvent } from '../../../src/ports/eventStore.ts';
import type { Link } from './parked.ts';
import { fillRecord, persistentPb, send, toWire } from './proto.ts';

/** One consumer connection: pulls from the group while it has free slots, pushes to the client. */
export class Connection {
  private readonly held = new Map<string, PersistentEvent>();
  private readonly consumer;
  private freed: (() => void) | undefined;
  private closed = false;

  constructor(
    store: SqliteEventStore,
    private readonly matches: (e: PersistentEvent['event']) => boolean,
    private readonly replayed: (e: PersistentEvent['event']) => Link | undefined,
    engine: string,
    group: string,
    private readonly bufferSize: number,
    private readonly call: grpc.ServerDuplexStream<unknown, unknown>,
    /** After events were settled (the group's checkpoint may have moved): see checkpoints.ts. */
    private readonly afterSettle: () => Promise<void>,
  ) {
    this.consumer = store.connectPersistentSubscription(engine);
    void this.pump(group);
  }

  private async pump(group: string): Promise<void> {
    const confirmation = new persistentPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(`$all::${group}`);
    if (!(await send(this.call, new persistentPb.ReadResp().setSubscriptionConfirmation(confirmation)))) return this.close();
    while (!this.closed) {
      if (this.held.size >= this.bufferSize) {
        await new Promise<void>((resolve) => (this.freed = resolve));
        continue;
      }
      const [e] = await this.consumer.nextBatch(1).catch(() => []);
      if (!e) break;
      if (!this.matches(e.event)) {
        await this.consumer.ack(e).catch(() => undefined); // outside the group's filter: settled without delivery, as ESDB does
        await this.afterSettle().catch(() => undefined);
        continue;
      }
      // A replayed event goes out resolved from its parked link, carrying the link's position; the client acks the link's id.
      const link = this.replayed(e.event);
      this.held.set(link?.record.id ?? e.event.id, e);
      const position = link?.wirePosition ?? String(toWire(e.event.position));
      const read = new persistentPb.ReadResp.ReadEvent()
        .setEvent(fillRecord(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), e.event, undefined, position))
        .setCommitPosition(position)
        .setRetryCount(e.retryCount);
      if (link) read.setLink(fillRecord(new persistentPb.ReadResp.ReadEvent.RecordedEvent(), link.record, { ...link, contentType: 'application/octet-stream' }, link.wirePosition));
      if (!(await send(this.call, new persistentPb.ReadResp().setEvent(read)))) break;
      // Yield before taking the next event, so other connections of the group get their turn.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.close();
  }

  settle(ids: string[], action: 'ack' | NackAction, reason: string): void {
    const settling: Promise<unknown>[] = [];
    for (const id of ids) {
      const e = this.held.get(id);
      if (!e) continue;
      this.held.delete(id);
      // Late answers after this connection closed count for nothing, as on ESDB.
      settling.push((action === 'ack' ? this.consumer.ack(e) : this.consumer.nack(action, reason, e)).catch(() => undefined));
    }
    if (settling.length > 0) void Promise.all(settling).then(this.afterSettle).catch(() => undefined);
    this.wake();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    await this.consumer.close().catch(() => undefined);
  }

  private wake(): void {
    const freed = this.freed;
    this.freed = undefined;
    freed?.();
  }
}
