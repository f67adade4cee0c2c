/**
 * One pass over the log that builds several read models at once (see rebuild.ts): the log is read
 * once in large pages, each event decoded once, and each build keeps its documents in a
 * write-back cache, flushed together with its build checkpoint every `flushEvents` log events.
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Projection } from '../projections/projection.ts';
import { DocCache } from './docCache.ts';
import { Dispatcher } from './dispatch.ts';
import { WriteBehind, type FlushedBuild } from './writeBehind.ts';

export interface Build {
  projection: Projection;
  /** The collection being built. */
  target: string;
  /** Its progress checkpoint's name, and where that checkpoint stood when this run began. */
  progress: string;
  from: number;
}

export interface PassOptions {
  /** Log events read per page. */
  pageSize: number;
  /** Log events between flushes: how much an interrupted build has to redo, at most. */
  flushEvents: number;
  /** Documents each build keeps in memory after a flush; the least recently written go first. */
  maxDocs: number;
  signal?: AbortSignal;
  onPage?(): void;
}

/** Stopped by its signal, after flushing: the next run resumes from `position`. */
export class PassInterrupted extends Error {
  constructor(readonly position: number) {
    super(`build pass interrupted at position ${position}`);
  }
}

export class BuildPass {
  private readonly dispatcher: Dispatcher;
  private readonly docs: DocCache[];
  /** Per build: every event up to here is applied; and up to where its checkpoint is committed. */
  private readonly applied: number[];
  private readonly flushed: number[];
  /** Per build: events applied in this run. */
  readonly events: number[];
  /** Log events read in this run. */
  read = 0;
  private sinceFlush = 0;
  /** Where reading goes on from: every build has every event up to here. */
  position: number;
  /** The last flush, written while the pass goes on. */
  private readonly writes: WriteBehind;

  constructor(
    private readonly log: EventStore,
    readModels: ReadModelStore,
    private readonly builds: readonly Build[],
    logger: Logger,
    private readonly options: PassOptions,
  ) {
    this.dispatcher = new Dispatcher(builds.map((b) => b.projection), logger);
    // A fresh build collection is empty, so a document missing from the cache does not exist;
    // a resumed one holds what the earlier run flushed, so misses go to the store.
    this.writes = new WriteBehind(readModels);
    this.docs = builds.map((b) => new DocCache(this.writes, b.projection, b.target, b.from > 0));
    this.applied = builds.map((b) => b.from);
    this.flushed = [...this.applied];
    this.events = builds.map(() => 0);
    this.position = Math.min(...this.applied);
  }

  /** Applies the log up to `limit` (inclusive), or up to the head when none, then flushes. */
  async runTo(limit: number | undefined): Promise<void> {
    // Read first: once the log has no more of the builds' events, they are complete up to here at
    // least, though their last own event may be far behind (what the live checkpoints compare with).
    const end = Math.min(await this.log.headPosition(), limit ?? Infinity);
    for (;;) {
      if (this.options.signal?.aborted) {
        await this.flush();
        await this.writes.settled();
        throw new PassInterrupted(this.position);
      }
      if (limit !== undefined && this.position >= limit) break;
      let page = await this.log.readAll({ fromPosition: this.position, maxCount: this.options.pageSize, filter: { eventTypes: this.dispatcher.eventTypes } });
      if (limit !== undefined) page = page.filter((e) => e.position <= limit);
      const last = page.at(-1)?.position;
      if (last === undefined) {
        this.advance(end);
        break;
      }
      const routed = this.dispatcher.dispatch(page, this.applied);
      for (const [i, docs] of this.docs.entries()) {
        const { items, fault } = routed[i]!;
        // A rebuild cannot leave an event out: the projection's bug ends it, with what it was.
        if (fault) throw fault;
        if (items.length > 0) await docs.apply(items);
        this.events[i]! += items.length;
      }
      this.advance(last);
      this.read += page.length;
      this.sinceFlush += page.length;
      if (this.sinceFlush >= this.flushAfter(end)) await this.flush();
      this.options.onPage?.();
      // Embedded stores answer without I/O waits, so without this the pass would never let timers,
      // signals (Ctrl-C) or, in the service, requests in until it ended.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await this.flush();
    await this.writes.settled();
  }

  /**
   * Log events after which to flush: every `flushEvents`, and sooner as the end nears (once as
   * many have been read since the last flush as are left), so that when the pass ends little is
   * left to write: the last flush is the only one nothing overlaps.
   */
  private flushAfter(end: number): number {
    const left = Math.max(0, end - this.position);
    return Math.min(this.options.flushEvents, Math.max(left, this.options.flushEvents / 10));
  }

  private advance(position: number): void {
    this.position = Math.max(this.position, position);
    for (const [i, at] of this.applied.entries()) this.applied[i] = Math.max(at, this.position);
  }

  /**
   * Starts writing each build's changed documents with its checkpoint, once the previous flush is
   * written, then trims each cache (what it evicts is read back through `writes`).
   */
  private async flush(): Promise<void> {
    await this.writes.settled();
    const flushed: FlushedBuild[] = [];
    for (const [i, build] of this.builds.entries()) {
      const changes = this.docs[i]!.takeChanges();
      const position = this.applied[i]!;
      if (changes.length === 0 && position <= this.flushed[i]!) continue;
      flushed.push({ collection: build.target, changes, checkpoint: { name: build.progress, position } });
      this.flushed[i] = position;
      this.docs[i]!.evict(this.options.maxDocs, position);
    }
    this.sinceFlush = 0;
    this.writes.start(flushed);
  }
}
