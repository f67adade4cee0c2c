import type { Logger } from '../../../ports/logger.ts';
import type { NackAction, PersistentEvent, PersistentSubscription, RecordedEvent } from '../../../ports/eventStore.ts';
import type { GroupDelivery, GroupFeed } from './client.ts';
import { isMissingGroup, isTransient, toPortError } from './errors.ts';
import { backoffMs, Feed, sleep } from './feed.ts';
import { iterateBatches } from '../batches.ts';

/**
 * One competing consumer of a persistent subscription group to $all. The server pushes up to
 * `bufferSize` unacknowledged events; a pump moves them into a feed the port pulls from. Events
 * the server-side filter let through but the port's full filter rejects are acked at once.
 * A dropped connection is re-established with backoff; the group redelivers what was not acked.
 */
export class EsdbPersistentSubscription implements PersistentSubscription {
  private readonly feed = new Feed<PersistentEvent>();
  private readonly ackIds = new WeakMap<RecordedEvent, { ackId: string; connection: GroupFeed }>();
  private closed = false;
  private taking = true;
  private current: GroupFeed | undefined;
  private readonly stopped: Promise<void>;
  private stop!: () => void;
  private readonly done: Promise<void>;

  constructor(
    private readonly open: () => Promise<GroupFeed>,
    private readonly matches: (e: RecordedEvent) => boolean,
    private readonly logger: Logger | undefined,
  ) {
    this.stopped = new Promise((resolve) => (this.stop = resolve));
    this.done = this.pump();
  }

  private async pump(): Promise<void> {
    let attempt = 0;
    while (!this.closed) {
      try {
        const connection = await this.open();
        this.current = connection;
        if (this.closed) {
          await connection.stop();
          break;
        }
        for await (const d of connection.events) {
          attempt = 0;
          await this.deliver(connection, d);
          if (this.closed) break;
        }
        if (this.closed) break;
        throw new Error('persistent subscription ended by the server');
      } catch (error) {
        // A consumer that stopped taking holds only what its old connection gave: nothing to reconnect for.
        if (this.closed || !this.taking) break;
        if (isMissingGroup(error) || (!isTransient(error) && !(error instanceof Error && error.message.includes('ended by the server')))) {
          this.feed.fail(toPortError(error));
          return;
        }
        const delayMs = backoffMs(attempt++);
        this.logger?.warn({ err: error, delayMs, attempt }, 'EventStoreDB persistent subscription dropped; reconnecting');
        await this.current?.stop().catch(() => undefined);
        await sleep(delayMs, this.stopped);
      }
    }
    this.feed.end();
  }

  private async deliver(connection: GroupFeed, d: GroupDelivery): Promise<void> {
    if (!this.matches(d.event)) {
      await connection.ack(d.ackId);
      return;
    }
    this.ackIds.set(d.event, { ackId: d.ackId, connection });
    await this.feed.push({ event: d.event, retryCount: d.retryCount });
  }

  nextBatch(max: number): Promise<PersistentEvent[]> {
    return this.feed.take(max);
  }

  [Symbol.asyncIterator](): AsyncIterator<PersistentEvent> {
    return iterateBatches(this, 1);
  }

  async ack(e: PersistentEvent): Promise<void> {
    const target = this.ackIds.get(e.event);
    if (target) await target.connection.ack(target.ackId);
  }

  async nack(action: NackAction, reason: string, e: PersistentEvent): Promise<void> {
    const target = this.ackIds.get(e.event);
    if (target) await target.connection.nack(action, reason, target.ackId);
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
    this.feed.end();
    await this.current?.stop().catch(() => undefined);
    await this.done.catch(() => undefined);
  }
}
