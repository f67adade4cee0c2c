import type { Logger } from '../../../ports/logger.ts';
import { EventNotHeldError, type NackAction, type PersistentEvent, type PersistentSubscription, type RecordedEvent } from '../../../ports/eventStore.ts';
import type { GroupDelivery, GroupFeed } from './liveFeeds.ts';
import { isDroppedByGroup, isTransient, toPortError } from './errors.ts';
import { backoffMs, Feed, sleep } from './feed.ts';
import { iterateBatches } from '../batches.ts';

/** The server ended the consumer's call without an error: reconnect as after a drop. */
class EndedByServer extends Error {
  constructor() {
    super('persistent subscription ended by the server');
  }
}

/** Where an event was handed out: the connection its ack must go to, and which one that was. */
interface Holder {
  ackId: string;
  connection: GroupFeed;
  generation: number;
}

/**
 * One competing consumer of a persistent subscription group to $all. The server pushes up to
 * `bufferSize` unacknowledged events; a pump moves them into a feed the port pulls from. Events
 * the server-side filter let through but the port's full filter rejects are acked at once.
 * A dropped connection is re-established with backoff; the group redelivers what was not acked.
 * A consumer the server dropped because of its group (deleted, or deleted and created again)
 * first restores the group (created again if missing), unless another filter was set since.
 *
 * Each connection is a generation. When one drops (or the consumer closes), the server has
 * already handed its unacknowledged events to other consumers: what it had buffered here is
 * dropped, and an ack or nack of an event it handed out rejects with EventNotHeldError instead of
 * being written to a dead call and looking as if it had counted.
 */
export class EsdbPersistentSubscription implements PersistentSubscription {
  private readonly feed = new Feed<PersistentEvent>();
  private readonly holders = new WeakMap<RecordedEvent, Holder>();
  private closed = false;
  private taking = true;
  /** Bumped when a connection opens and when it is lost: only events of the current one can be settled. */
  private generation = 0;
  private current: GroupFeed | undefined;
  private readonly stopped: Promise<void>;
  private stop!: () => void;
  private readonly done: Promise<void>;

  constructor(
    private readonly open: () => Promise<GroupFeed>,
    private readonly matches: (e: RecordedEvent) => boolean,
    private readonly logger: Logger | undefined,
    /**
     * Brings the group back as this process set it (see restoreGroup), before resubscribing after
     * the server dropped the consumer because of its group. Absent (the group was not set in this
     * process): such a drop fails the subscription.
     */
    private readonly restore?: () => Promise<void>,
  ) {
    this.stopped = new Promise((resolve) => (this.stop = resolve));
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    let restoring = false;
    while (!this.closed) {
      try {
        if (restoring) {
          // close() must not wait for a server that stopped answering.
          await Promise.race([this.restore!(), this.stopped]);
          if (this.closed) break;
          restoring = false;
        }
        const connection = await this.open();
        this.current = connection;
        if (this.closed) break;
        const generation = ++this.generation;
        for await (const d of connection.events) {
          attempt = 0;
          await this.deliver(connection, generation, d);
          if (this.closed) break;
        }
        if (this.closed) break;
        throw new EndedByServer();
      } catch (error) {
        this.lose();
        // A consumer that stopped taking holds only what its old connection gave: nothing to reconnect for.
        if (this.closed || !this.taking) break;
        const dropped = this.restore !== undefined && isDroppedByGroup(error);
        if (!dropped && !(isTransient(error) || error instanceof EndedByServer)) {
          await this.current?.stop().catch(() => undefined);
          this.feed.fail(toPortError(error));
          return;
        }
        restoring ||= dropped;
        const delayMs = backoffMs(attempt++);
        this.logger?.warn({ err: error, delayMs, attempt }, dropped
          ? 'EventStoreDB dropped this persistent subscription consumer because of its group (deleted, or recreated); restoring the group if it is missing and resubscribing'
          : 'EventStoreDB persistent subscription dropped; reconnecting');
        await this.current?.stop().catch(() => undefined);
        await sleep(delayMs, this.stopped);
      }
    }
    this.lose();
    await this.current?.stop().catch(() => undefined);
    this.feed.end();
  }

  /** The current connection is gone: what it buffered here cannot be acked, and the server hands it out again. */
  private lose(): void {
    this.generation += 1;
    this.feed.clear();
  }

  private async deliver(connection: GroupFeed, generation: number, d: GroupDelivery): Promise<void> {
    if (!this.matches(d.event)) {
      await connection.ack(d.ackId);
      return;
    }
    this.holders.set(d.event, { ackId: d.ackId, connection, generation });
    await this.feed.push({ event: d.event, retryCount: d.retryCount });
  }

  nextBatch(max: number): Promise<PersistentEvent[]> {
    return this.feed.take(max);
  }

  [Symbol.asyncIterator](): AsyncIterator<PersistentEvent> {
    return iterateBatches(this, 1);
  }

  async ack(e: PersistentEvent): Promise<void> {
    const holder = this.holder(e);
    await holder.connection.ack(holder.ackId);
    this.holders.delete(e.event);
  }

  async nack(action: NackAction, reason: string, e: PersistentEvent): Promise<void> {
    const holder = this.holder(e);
    await holder.connection.nack(action, reason, holder.ackId);
    this.holders.delete(e.event);
  }

  /** The connection that handed `e` out, if it is still the live one. */
  private holder(e: PersistentEvent): Holder {
    const holder = this.holders.get(e.event);
    if (!holder) throw new EventNotHeldError(e.event.position, 'this consumer did not hand it out, or settled it already');
    if (this.closed) throw new EventNotHeldError(e.event.position, 'this consumer was closed');
    if (holder.generation !== this.generation) throw new EventNotHeldError(e.event.position, 'the connection that handed it out was lost');
    return holder;
  }

  /**
   * The connection stays, so acks of what this consumer holds still count. What the server pushed
   * that was not taken is dropped here and stays out on this connection until close() hands it
   * back: nacking it would have the server push it straight back while this consumer is its only one.
   */
  async stopTaking(): Promise<void> {
    this.taking = false;
    this.feed.clear();
    this.feed.end();
  }

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
