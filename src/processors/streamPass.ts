/**
 * The first part of a rebuild of stream-local read models (Projection.streamLocal, see rebuild.ts):
 * the log up to a position, read stream by stream (EventStore.readStreamsInOrder) in pages of whole
 * streams. Each document is built from its stream's events in one go and written with its page, so
 * no document is held from its first event to its last, none is written twice, and what a page
 * made is garbage by the next one. In log order a notification's documents stay in memory from its
 * request to its last delivery, thousands of events later, and are written again when a flush
 * comes between the two (measured in docs/replay.md).
 *
 * Progress is the first position of the last stream written, one checkpoint per build written
 * with its documents; a run resumes after it. The builds then go on in log order from `until`.
 */
import type { EventStore, RecordedEvent, StreamRead } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Build } from './buildPass.ts';
import { PassInterrupted } from './buildPass.ts';
import { DocCache } from './docCache.ts';
import { Dispatcher } from './dispatch.ts';
import { StreamDocs } from './streamDocs.ts';
import { WriteBehind, type FlushedBuild } from './writeBehind.ts';

export interface StreamBuild extends Build {
  /** The checkpoint of its progress in this part: the first position of the last stream written. */
  streams: { checkpoint: string; after: number };
}

export interface StreamPassOptions {
  /** Streams per page: read, applied and written together. */
  pageStreams: number;
  /** Fan-out documents each build keeps in memory after a page; the least recently written go first. */
  maxDocs: number;
  signal?: AbortSignal;
  onPage?(): void;
}

/**
 * Pages in flight at most: the pass goes on while a commit thread writes them, and the thread
 * writes those waiting for it in one transaction (commitThread.ts). On a large log the thread is
 * the slower one, and the more pages wait, the fewer transactions rewrite the same index pages:
 * the 2.06M-event log of 1M notifications took 23.5–24.1 s with 512, 27.6 s with 64 (the commit
 * thread 14.9–15.4 against 17.3–17.5 s of CPU; 22.7 s once with 2,048). The 206k-event log is
 * the same with either. Each page waiting holds its documents' JSON on the commit thread, about
 * 100 KB.
 */
const FLUSHES_IN_FLIGHT = 512;

export type StreamLog = EventStore & Required<Pick<EventStore, 'readStreamsInOrder'>>;

export class StreamPass {
  private readonly dispatcher: Dispatcher;
  private readonly docs: StreamDocs[];
  private readonly fanOut: DocCache[];
  private readonly writes: WriteBehind;
  private readonly none: readonly number[];
  /** Per build: events applied in this run. */
  readonly events: number[];
  /** Log events read in this run. */
  read = 0;
  /** The first position of the last stream every build has. */
  position: number;

  constructor(
    private readonly log: StreamLog,
    readModels: ReadModelStore,
    private readonly builds: readonly StreamBuild[],
    logger: Logger,
    private readonly options: StreamPassOptions,
  ) {
    this.dispatcher = new Dispatcher(builds.map((b) => b.projection), logger);
    this.writes = new WriteBehind(readModels, FLUSHES_IN_FLIGHT);
    this.fanOut = builds.map((b) => new DocCache(this.writes, b.projection, b.target, b.streams.after > 0));
    this.docs = builds.map((b, i) => new StreamDocs(b.projection, b.target, this.fanOut[i]!));
    this.events = builds.map(() => 0);
    this.none = builds.map(() => 0);
    this.position = Math.min(...builds.map((b) => b.streams.after));
  }

  /**
   * Applies every stream that begins after `position` and by `until`, with its events up to
   * `until`, and hands the last page to the writer; `settled()` then waits for the writes. The
   * caller may use the wait: the writer's backlog is written on the read-model store's thread.
   */
  async readTo(until: number): Promise<void> {
    for (;;) {
      if (this.options.signal?.aborted) {
        await this.writes.settled();
        throw new PassInterrupted(this.position);
      }
      const page = await this.log.readStreamsInOrder({ afterFirst: this.position, until, maxStreams: this.options.pageStreams, eventTypes: this.dispatcher.eventTypes });
      if (page.streams.length === 0) break;
      await this.apply(page.streams);
      this.position = page.lastFirst;
      await this.flush();
      this.options.onPage?.();
      // Embedded stores answer without I/O waits: let timers, signals (Ctrl-C) and requests in.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Once every page handed over is written. */
  settled(): Promise<void> {
    return this.writes.settled();
  }

  private async apply(streams: readonly StreamRead[]): Promise<void> {
    const events: RecordedEvent[] = [];
    for (const stream of streams) for (const event of stream.events) events.push(event);
    this.read += events.length;
    // No build has an event of these streams yet: nothing to skip by position.
    const routed = this.dispatcher.dispatch(events, this.none);
    for (const [i, docs] of this.docs.entries()) {
      const { fault } = routed[i]!;
      let { items } = routed[i]!;
      // A build that had got further before an interruption skips the streams it has.
      const after = this.builds[i]!.streams.after;
      if (after > this.position) {
        const done = new Set(streams.filter((s) => s.first <= after).map((s) => s.name));
        items = items.filter((item) => !done.has(item.event.streamName));
      }
      if (fault) throw fault;
      if (items.length > 0) await docs.apply(items);
      this.events[i]! += items.length;
    }
  }

  /** Starts writing each build's page with its progress, once there is room for another page in flight. */
  private async flush(): Promise<void> {
    await this.writes.room();
    const flushed: FlushedBuild[] = [];
    for (const [i, build] of this.builds.entries()) {
      if (build.streams.after >= this.position) continue;
      const { changes, fanOut } = this.docs[i]!.takeChanges();
      // Replacing: a fan-out document changes with events below its position, and a stream read
      // again after a crash rebuilds its documents from nothing, to what they were. Only fan-out
      // documents can be read back while in flight.
      flushed.push({ collection: build.target, changes, checkpoint: { name: build.streams.checkpoint, position: this.position }, replace: true, readBack: fanOut });
      this.fanOut[i]!.evict(this.options.maxDocs, this.position);
    }
    this.writes.start(flushed);
  }
}
