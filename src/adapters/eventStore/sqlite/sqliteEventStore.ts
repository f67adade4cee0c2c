import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventData,
  type EventFilter,
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
  type StreamRead,
  type StreamsPage,
  type Subscription,
} from '../../../ports/eventStore.ts';
import { CatchUpSubscription } from './catchUpSubscription.ts';
import { PersistentGroups } from './persistentGroups.ts';
import { EVENT_COLUMNS, filterSql, fromTuple, type EventTuple } from './rows.ts';
import { openEventDb } from './schema.ts';
import { Wakes } from './wakes.ts';
import { ThreadLink, type GroupCall } from './threadLink.ts';
import type { WriteLock } from './writeLock.ts';
import { DurableMarks, WalSync } from './durability.ts';
import { TurnBatch } from './turnBatch.ts';
import { StreamCache } from './streamCache.ts';
import { LogTail } from './logTail.ts';

/** Streams whose events one statement of readStreamsInOrder reads (its IN list). */
const STREAMS_PER_READ = 100;

/** State shared with the other thread's instance on the same file (see writeLock.ts and durability.ts). */
export interface SharedWriters {
  writeLock?: WriteLock;
  durableMarks?: DurableMarks;
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
  private readonly cache = new Map<string, Database.Statement>();
  private readonly streams = new StreamCache();
  // Its rows: every event of the groups' types after its end, read once for every group.
  private readonly tail = new LogTail((after, upTo, types, max) => this.readPage(after, max, types ? { eventTypes: types } : undefined, upTo).events);
  private readonly link: ThreadLink;
  private readonly marks: DurableMarks;
  private readonly sync: WalSync;
  /** Event types appended since the last commit: which persistent groups that commit wakes. */
  private readonly appendedTypes = new Set<string>();

  constructor(file: string, options: SharedWriters = {}) {
    this.db = openEventDb(file);
    this.marks = options.durableMarks ?? new DurableMarks();
    this.sync = new WalSync(`${file}-wal`, this.marks);
    this.writes = new TurnBatch(this.db, {
      begin: 'immediate',
      // An append that finds another revision throws before it writes a row.
      failsAlone: (error) => error instanceof WrongExpectedRevisionError,
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
    this.groups = new PersistentGroups(this.db, this.writes, groupPage, this.wakes, (filters) => this.tail.follow(filters));
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
    const actual = current ?? 'no_stream';
    const ok =
      expected === 'any' ||
      (expected === 'no_stream' && current === undefined) ||
      (expected === 'stream_exists' && current !== undefined) ||
      (typeof expected === 'number' && current === expected);
    if (!ok) throw new WrongExpectedRevisionError(stream, expected, actual);
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
      if (!held && (from > 0 || max >= 0)) return this.streamRows(stream, from, max);
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
    const events = [...held, ...this.streamRows(stream, held.length, -1)];
    this.streams.set(stream, events);
    return events;
  }

  private streamRows(stream: string, from: number, max: number): RecordedEvent[] {
    const rows = this.rawStatement(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?`).all(stream, from, max) as EventTuple[];
    return rows.map(fromTuple);
  }

  /** Event reads prepared once per SQL text (filtered reads build a few shapes), returning EventTuples. */
  private rawStatement(sql: string): Database.Statement {
    let statement = this.cache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql).raw(true);
      this.cache.set(sql, statement);
    }
    return statement;
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readPage(options.fromPosition ?? 0, options.maxCount ?? -1, options.filter).events;
  }

  /**
   * Two reads: the page's streams, by a scan of the log for first events (revision 0) in position
   * order, then their events through the (stream, revision) index. Both only see positions up to
   * `until`, so appends in between change neither. On a 206k-event log in the page cache the rows
   * alone (not parsed) took 0.32–0.37 s this way, against 0.18 s in position order (2026-11-27):
   * each stream is a seek in the index and its events seeks in the table.
   */
  async readStreamsInOrder(options: ReadStreamsOptions): Promise<StreamsPage> {
    const until = Math.min(options.until, this.marks.cap(this.headNow()));
    const firsts = this.rawStatement('SELECT position, stream FROM events WHERE revision = 0 AND position > ? AND position <= ? ORDER BY position LIMIT ?')
      .all(options.afterFirst, until, options.maxStreams) as [number, string][];
    if (firsts.length === 0) return { streams: [], lastFirst: 0 };
    const where = filterSql(options.eventTypes ? { eventTypes: options.eventTypes } : undefined);
    // One statement for every chunk: a short chunk repeats its last stream, which IN ignores.
    const streamsOf = this.rawStatement(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream IN (${'?,'.repeat(STREAMS_PER_READ - 1)}?) AND position <= ?${where.sql} ORDER BY stream, revision`);
    const streams: StreamRead[] = firsts.map(([first, name]) => ({ name, first, events: [] }));
    const byName = new Map(streams.map((s) => [s.name, s]));
    for (let start = 0; start < firsts.length; start += STREAMS_PER_READ) {
      const names = firsts.slice(start, start + STREAMS_PER_READ).map(([, name]) => name);
      const padded = names.length === STREAMS_PER_READ ? names : [...names, ...Array<string>(STREAMS_PER_READ - names.length).fill(names.at(-1)!)];
      for (const row of streamsOf.all(...padded, until, ...where.params) as EventTuple[]) byName.get(row[2])!.events.push(fromTuple(row));
    }
    return { streams, lastFirst: firsts.at(-1)![0] };
  }

  /** `head`: the last position a reader may see; only what is on disk, so a reader never acts on an event a power cut could still take back. */
  private readPage(from: number, max: number, filter: ReadAllOptions['filter'], head = this.marks.cap(this.headNow())): { events: RecordedEvent[]; scannedTo: number } {
    const where = filterSql(filter);
    const rows = this.rawStatement(`SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ?${where.sql} ORDER BY position LIMIT ?`)
      .all(from, head, ...where.params, max) as EventTuple[];
    const full = max >= 0 && rows.length >= max;
    const scannedTo = full ? (rows.at(-1)?.[0] ?? from) : head;
    return { events: rows.map(fromTuple), scannedTo };
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

function toRows(events: readonly EventData[]): EventRow[] {
  return events.map((e) => ({ id: e.id ?? randomUUID(), type: e.type, data: JSON.stringify(e.data), metadata: JSON.stringify(e.metadata ?? {}) }));
}

interface EventRow {
  id: string;
  type: string;
  data: string;
  metadata: string;
}

/** An append's result, and the events it wrote when the stream is one this connection holds. */
interface Appended {
  result: AppendResult;
  written: RecordedEvent[] | undefined;
}
