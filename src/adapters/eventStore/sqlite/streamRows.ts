/**
 * The embedded store's streams: an append's rows, written as a job of the turn's transaction, and
 * a stream's reads through the streams this connection holds (streamCache.ts).
 */
import type Database from 'better-sqlite3';
import { WrongExpectedRevisionError, type AppendResult, type ExpectedRevision, type RecordedEvent } from '../../../ports/eventStore.ts';
import type { WalSync } from './durability.ts';
import type { LogReads } from './logReads.ts';
import { fromTuple, revisionMatches, type EventRow } from './rows.ts';
import { StreamCache } from './streamCache.ts';

/** An append's result, and the events it wrote when the stream is one this connection holds. */
export interface Appended {
  result: AppendResult;
  written: RecordedEvent[] | undefined;
}

export class StreamRows {
  private readonly cache = new StreamCache();
  private readonly statements;
  /** Event types appended since the last commit: which persistent groups that commit wakes. */
  readonly appendedTypes = new Set<string>();

  constructor(
    db: Database.Database,
    private readonly log: LogReads,
    private readonly sync: WalSync,
    private readonly headNow: () => number,
  ) {
    this.statements = {
      // One seek in the covering index; the append's insert goes into the same leaf right after.
      streamRevision: db.prepare<[string], { revision: number }>('SELECT revision FROM events WHERE stream = ? ORDER BY revision DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO events (id, stream, revision, type, data, metadata, created) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  /** An event read elsewhere (a group's page) that its stream, if held, may take. */
  seen(event: RecordedEvent): void {
    this.cache.seen(event);
  }

  /** One append, inside the write transaction; one that finds another revision throws before it writes. */
  append(stream: string, rows: EventRow[], expected: ExpectedRevision): Appended {
    const current = this.statements.streamRevision.get(stream)?.revision;
    if (!revisionMatches(expected, current)) throw new WrongExpectedRevisionError(stream, expected, current ?? 'no_stream');
    let revision = current ?? -1;
    let position = 0;
    const created = Date.now();
    // Only a stream held whole up to now is worth the copies (new streams, most appends, are not).
    const written: RecordedEvent[] | undefined = current !== undefined && this.cache.get(stream)?.length === current + 1 ? [] : undefined;
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

  /**
   * Once the append's commit has settled: a stream this connection holds (a rate window, read
   * before each slot it takes) is extended with what it wrote, so the next read needs no row.
   * The cache's own check (the held events must end just before the first new revision) skips
   * it when a read or another append got there first.
   */
  settled({ result, written }: Appended): AppendResult {
    if (written) for (const event of written) this.cache.seen(event);
    return result;
  }

  /** Inside a read transaction: `max` events from revision `from` (-1: all). */
  read(stream: string, from: number, max: number): RecordedEvent[] {
    const held = this.cache.get(stream);
    // A part of a stream not held here is read as asked: holding all of a long stream for a page of it does not pay.
    if (!held && (from > 0 || max >= 0)) return this.log.stream(stream, from, max);
    const events = this.whole(stream, held ?? []);
    return events.slice(from, max >= 0 ? from + max : undefined);
  }

  /**
   * The whole stream as of this read transaction: what the cache holds, and the rows past it when
   * the revision says there are more (revisions are dense from 0, so index = revision).
   */
  private whole(stream: string, held: readonly RecordedEvent[]): readonly RecordedEvent[] {
    const revision = this.statements.streamRevision.get(stream)?.revision;
    if (revision === undefined) return [];
    if (held.length > revision) return held.length === revision + 1 ? held : held.slice(0, revision + 1);
    const events = [...held, ...this.log.stream(stream, held.length, -1)];
    this.cache.set(stream, events);
    return events;
  }
}
