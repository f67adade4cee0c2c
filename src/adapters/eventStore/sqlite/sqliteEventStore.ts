import type Database from 'better-sqlite3';
import type { EventFilter } from '../../../ports/eventFilter.ts';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type ParkedEvent,
  type PersistentSubscription,
  type PersistentSubscriptionInfo,
  type PersistentSubscriptionSettings,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ReadStreamsOptions,
  type RecordedEvent,
  type StreamAppend,
  type StreamsPage,
  type Subscription,
} from '../../../ports/eventStore.ts';
import { CatchUpSubscription } from './catchUpSubscription.ts';
import { PersistentGroups } from './persistentGroups.ts';
import { toRows } from './rows.ts';
import { LogReads } from './logReads.ts';
import { openEventDb } from './schema.ts';
import { Wakes } from './wakes.ts';
import { ThreadLink, type GroupCall } from './threadLink.ts';
import type { WriteLock } from './writeLock.ts';
import { DurableMarks, WalSync } from './durability.ts';
import { unwritable } from './unwritable.ts';
import type { Logger } from '../../../ports/logger.ts';
import { TurnBatch } from './turnBatch.ts';
import { StreamRows } from './streamRows.ts';
import { LogTail } from './logTail.ts';

/** State shared with the other thread's instance on the same file (see writeLock.ts and durability.ts). */
export interface SharedWriters {
  writeLock?: WriteLock;
  durableMarks?: DurableMarks;
  /** A WalCheckpointer runs for this file: the WAL pages past which this connection checkpoints anyway (schema.ts). */
  selfCheckpointPages?: number;
}

export interface SqliteEventStoreOptions extends SharedWriters {
  /** Where the persistent groups report what they cannot write (a dead letter on a full disk). */
  logger?: Logger;
}

/**
 * The embedded event store: one SQLite file, group-committed appends, in-process subscriptions.
 * Several instances on one file in one process (the API thread and the worker thread) are linked:
 * each one's commits wake the others' subscriptions, and group calls reach the group's host.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database.Database;
  private readonly writes: TurnBatch;
  private readonly reads: TurnBatch;
  private readonly wakes = new Wakes();
  private readonly groups: PersistentGroups;
  private readonly head;
  private readonly log: LogReads;
  private readonly streams: StreamRows;
  // Its rows: every event of the groups' types after its end, read once for every group.
  private readonly tail = new LogTail((after, upTo, types, max) => this.readPage(after, max, types ? { eventTypes: types } : undefined, upTo).events);
  private readonly link: ThreadLink;
  private readonly marks: DurableMarks;
  private readonly sync: WalSync;

  constructor(file: string, options: SqliteEventStoreOptions = {}) {
    this.db = openEventDb(file, options.selfCheckpointPages);
    this.log = new LogReads(this.db);
    this.marks = options.durableMarks ?? new DurableMarks();
    this.sync = new WalSync(`${file}-wal`, this.marks);
    this.writes = new TurnBatch(this.db, {
      begin: 'immediate',
      // An append that finds another revision throws before it writes a row.
      failsAlone: (error) => error instanceof WrongExpectedRevisionError,
      failure: (error) => unwritable(file, error),
      ...(options.writeLock ? { lock: options.writeLock } : {}),
      // Appends resolve, and subscribers here and on the other threads wake, once the WAL is synced.
      afterCommit: (settle) => {
        const types = [...this.streams.appendedTypes];
        this.streams.appendedTypes.clear();
        this.sync.committed((error) => {
          settle(error);
          if (error) return;
          this.wake(types);
          this.link.committed(types);
        });
      },
    });
    this.reads = new TurnBatch(this.db, { begin: 'deferred' });
    this.link = new ThreadLink(file, { committed: (types) => this.wake(types), answer: (call) => this.answer(call) });
    this.head = this.db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events');
    this.streams = new StreamRows(this.db, this.log, this.sync, () => this.headNow());
    // The groups read the log's newest rows from one shared tail; what a group hands over is read
    // again right after (the notification's stream): hold it.
    const groupPage = (from: number, max: number, filter: EventFilter) => {
      const head = this.marks.cap(this.headNow());
      const page = this.tail.read(from, max, filter, head) ?? this.readPage(from, max, filter, head);
      for (const event of page.events) this.streams.seen(event);
      return page;
    };
    this.groups = new PersistentGroups(this.db, this.writes, groupPage, this.wakes, (filters) => this.tail.follow(filters), options.logger);
  }

  private wake(types: readonly string[]): void {
    this.wakes.committed(types);
  }

  private answer(call: GroupCall): Promise<unknown> | undefined {
    if (!this.groups.has(call.group)) return undefined;
    return Promise.resolve(call.method === 'info' ? this.groups.info(call.group) : this.groups.replayParked(call.group));
  }

  append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    const rows = toRows(events);
    return this.writes.enqueue(() => this.streams.append(stream, rows, expected)).then((appended) => this.streams.settled(appended));
  }

  /**
   * One job of the turn's transaction. An append that finds another revision throws before it
   * writes, so the ones before it stay in the transaction and the rest are never run.
   */
  appendInOrder(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const prepared = appends.map((a) => ({ stream: a.stream, rows: toRows(a.events), expected: a.expected }));
    return this.writes.enqueue(() => prepared.map((a) => this.streams.append(a.stream, a.rows, a.expected))).then((all) => all.map((appended) => this.streams.settled(appended)));
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    const max = options.maxCount ?? -1;
    return this.reads.enqueue(() => this.streams.read(stream, from, max));
  }

  /** `head`: the last position a reader may see; only what is on disk, so a reader never acts on an event a power cut could still take back. */
  private readPage(from: number, max: number, filter: EventFilter | undefined, head = this.marks.cap(this.headNow())): { events: RecordedEvent[]; scannedTo: number } {
    return this.log.page(from, max, filter, head);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readPage(options.fromPosition ?? 0, options.maxCount ?? -1, options.filter).events;
  }

  /** Stream by stream (logReads.ts), up to `until` or the durable head, whichever is lower. */
  async readStreamsInOrder(options: ReadStreamsOptions): Promise<StreamsPage> {
    return this.log.streamsInOrder(options.afterFirst, Math.min(options.until, this.marks.cap(this.headNow())), options.maxStreams, options.eventTypes);
  }

  private headNow(): number {
    return this.head.get()?.position ?? 0;
  }

  async headPosition(): Promise<number> {
    return this.headNow();
  }

  subscribeToAll(options: ReadAllOptions = {}): Subscription<RecordedEvent> {
    return new CatchUpSubscription((from, max) => this.readPage(from, max, options.filter), this.wakes.add(() => options.filter), options.fromPosition ?? 0);
  }

  async ensurePersistentSubscription(group: string, settings: PersistentSubscriptionSettings): Promise<void> {
    await this.groups.ensure(group, settings, this.headNow());
  }

  connectPersistentSubscription(group: string): PersistentSubscription {
    return this.groups.connect(group);
  }

  /** The group may run on another thread's instance (the API thread asks the worker thread's). */
  async persistentSubscriptionInfo(group: string): Promise<PersistentSubscriptionInfo> {
    if (this.groups.has(group)) return this.groups.info(group);
    return (await this.link.call({ method: 'info', group })) as PersistentSubscriptionInfo;
  }

  async listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    return this.groups.listParked(group, options.limit ?? 100);
  }

  async replayParked(group: string): Promise<number> {
    if (this.groups.has(group)) return this.groups.replayParked(group);
    return (await this.link.call({ method: 'replayParked', group })) as number;
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.groups.close();
    this.writes.flush();
    await this.sync.close();
    this.wakes.close();
    this.link.close();
    this.db.close();
  }
}
