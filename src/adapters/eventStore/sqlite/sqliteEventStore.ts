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
import { fromTuple, revisionMatches, toRows, type EventRow } from './rows.ts';
import { LogReads } from './logReads.ts';
import { openEventDb } from './schema.ts';
import { Wakes } from './wakes.ts';
import { ThreadLink, type GroupCall } from './threadLink.ts';
import type { WriteLock } from './writeLock.ts';
import { DurableMarks, WalSync } from './durability.ts';
import { unwritable } from './unwritable.ts';
import type { Logger } from '../../../ports/logger.ts';
import { TurnBatch } from './turnBatch.ts';
import { StreamCache } from './streamCache.ts';
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
  private readonly statements;
  private readonly log: LogReads;
  private readonly streams = new StreamCache();
  // Its rows: every event of the groups' types after its end, read once for every group.
  private readonly tail = new LogTail((after, upTo, types, max) => this.readPage(after, max, types ? { eventTypes: types } : undefined, upTo).events);
  private readonly link: ThreadLink;
  private readonly marks: DurableMarks;
  private readonly sync: WalSync;
  /** Event types appended since the last commit: which persistent groups that commit wakes. */
  private readonly appendedTypes = new Set<string>();

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
        const types = [...this.appendedTypes];
        this.appendedTypes.clear();
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
    this.statements = {
      // One seek in the covering index; the append's insert goes into the same leaf right after.
      streamRevision: this.db.prepare<[string], { revision: number }>('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1'),
      insert: this.db.prepare('INSERT INTO events (id, stream, revision, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      head: this.db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
    };
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
    return this.writes.enqueue(() => this.appendNow(stream, rows, expected)).then((appended) => this.appended(appended));
  }

  /**
   * One job of the turn's transaction. An append that finds another revision throws before it
   * writes, so the ones before it stay in the transaction and the rest are never run.
   */
  appendInOrder(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    const prepared = appends.map((a) => ({ stream: a.stream, rows: toRows(a.events), expected: a.expected }));
    return this.writes.enqueue(() => prepared.map((a) => this.appendNow(a.stream, a.rows, a.expected))).then((all) => all.map((appended) => this.appended(appended)));
  }

  /**
   * Once the append's commit has settled: a stream this connection holds (a rate window, read
   * before each slot it takes) is extended with what it wrote, so the next read needs no row.
   * The cache's own check (the held events must end just before the first new revision) skips
   * it when a read or another append got there first.
   */
  private appended({ result, written }: Appended): AppendResult {
    if (written) for (const event of written) this.streams.seen(event);
    return result;
  }

  private appendNow(stream: string, rows: EventRow[], expected: ExpectedRevision): Appended {
    const current = this.statements.streamRevision.get(stream)?.revision;
    if (!revisionMatches(expected, current)) throw new WrongExpectedRevisionError(stream, expected, current ?? 'no_stream');
    let revision = current ?? -1;
    let position = 0;
    const created = Date.now();
    // Only a stream held whole up to now is worth the copies (new streams, most appends, are not).
    const written: RecordedEvent[] | undefined = current !== undefined && this.streams.get(stream)?.length === current + 1 ? [] : undefined;
    for (const row of rows) {
      revision += 1;
      const info = this.statements.insert.run(row.id, stream, revision, row.type, row.data, row.metadata, created);
      position = Number(info.lastInsertRowid);
      this.sync.writing(position);
      this.appendedTypes.add(row.type);
      written?.push(fromTuple([position, row.id, stream, revision, row.type, row.data, row.metadata, created]));
    }
    if (rows.length === 0) position = this.headNow();
    return { result: { nextExpectedRevision: revision, position }, written };
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromRevision ?? 0;
    const max = options.maxCount ?? -1;
    return this.reads.enqueue(() => {
      const held = this.streams.get(stream);
      // A part of a stream not held here is read as asked: holding all of a long stream for a page of it does not pay.
      if (!held && (from > 0 || max >= 0)) return this.log.stream(stream, from, max);
      const events = this.streamNow(stream, held ?? []);
      return events.slice(from, max >= 0 ? from + max : undefined);
    });
  }

  /**
   * The whole stream as of this read transaction: what the cache holds, and the rows past it when
   * the revision says there are more (revisions are dense from 0, so index = revision).
   */
  private streamNow(stream: string, held: readonly RecordedEvent[]): readonly RecordedEvent[] {
    const revision = this.statements.streamRevision.get(stream)?.revision;
    if (revision === undefined) return [];
    if (held.length > revision) return held.length === revision + 1 ? held : held.slice(0, revision + 1);
    const events = [...held, ...this.log.stream(stream, held.length, -1)];
    this.streams.set(stream, events);
    return events;
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
    return this.statements.head.get()?.position ?? 0;
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

/** An append's result, and the events it wrote when the stream is one this connection holds. */
interface Appended {
  result: AppendResult;
  written: RecordedEvent[] | undefined;
}
