/**
 * One run of `rebuildAll` (rebuild.ts), step by step: open or resume each read model's build,
 * build the stream-local ones stream by stream and the others in log order up to the same place,
 * then all of them in log order to the end, and either swap them in or leave an --until copy.
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Projection } from '../projections/projection.ts';
import { BuildPass, PassInterrupted, type Build } from './buildPass.ts';
import type { StreamsProgress } from './buildProgress.ts';
import { openBuilds } from './openBuilds.ts';
import { checkpointName } from './checkpoints.ts';
import type { RebuildOptions, RebuildResult } from './rebuild.ts';
import { StreamPass, type StreamBuild, type StreamLog } from './streamPass.ts';
import { FLUSH_EVENTS, MAX_DOCS, PAGE, PAGE_STREAMS } from './rebuildPaging.ts';

export class RebuildInterruptedError extends Error {
  readonly code = 'rebuild_interrupted';
  constructor(readonly projection: string, readonly position: number) {
    super(`rebuild of ${projection} interrupted at position ${position}; run the same command again to resume from there`);
  }
}

type Pass = StreamPass | BuildPass;

export class RebuildRun {
  private readonly label: string;
  private readonly resumed: { from: number; afterStream: number }[];
  private readonly applied: number[];
  private readonly all: number[];
  private read = 0;
  /** Never backwards: the log-order part starts again from the beginning of the log after the
   * stream passes have reached its end, and a progress bar that drops back reads as a fault. */
  private reached = 0;
  /** Stream passes whose last pages may still be in the store's hands. */
  private unsettled: { pass: StreamPass; indexes: number[]; to: number }[] = [];

  private constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly logger: Logger,
    private readonly options: RebuildOptions,
    /** The head when the run began, and --until (capped at it) if given. */
    private readonly head: number,
    readonly until: number | undefined,
    private readonly streamLog: StreamLog | undefined,
    private readonly builds: Build[],
    /** Each build's stream-by-stream progress, where it is built that way. */
    private readonly streamed: readonly (StreamsProgress | undefined)[],
  ) {
    this.label = builds.map((b) => b.projection.name).join(', ');
    this.resumed = builds.map((b, i) => ({ from: b.from, afterStream: streamed[i]?.after ?? 0 }));
    this.applied = builds.map(() => 0);
    this.all = builds.map((_, i) => i);
  }

  /** Starts or resumes a build per projection, into a collection without its indexes yet (openBuilds.ts). */
  static async open(events: EventStore, readModels: ReadModelStore, projections: readonly Projection[], logger: Logger, options: RebuildOptions): Promise<RebuildRun> {
    const { head, until, streamLog, builds, streamed } = await openBuilds(events, readModels, projections, logger, options);
    return new RebuildRun(events, readModels, logger, options, head, until, streamLog, builds, streamed);
  }

  /**
   * Stream by stream, each build up to the position its generation fixed (one, unless a build
   * started over while others resumed); then the others in log order up to the furthest of those.
   */
  async streamByStream(): Promise<void> {
    const byUntil = new Map<number, number[]>();
    this.streamed.forEach((s, i) => s && byUntil.set(s.until, [...(byUntil.get(s.until) ?? []), i]));
    try {
      for (const [to, indexes] of byUntil) {
        const pass: StreamPass = new StreamPass(this.streamLog!, this.readModels, indexes.map((i): StreamBuild => ({ ...this.builds[i]!, streams: this.streamed[i]! })), this.logger, {
          pageStreams: PAGE_STREAMS,
          maxDocs: this.options.maxDocs ?? MAX_DOCS,
          ...(this.options.signal ? { signal: this.options.signal } : {}),
          onPage: () => this.report(pass.position, to, pass),
        });
        await this.run(pass, indexes, () => pass.readTo(to));
        this.unsettled.push({ pass, indexes, to });
      }
      if (byUntil.size > 0) await this.othersInLogOrderTo(Math.max(...byUntil.keys()));
    } finally {
      // Every stream pass's pages written and its progress recorded, a later step's failure included.
      await this.settleStreams();
    }
  }

  /** The builds not read stream by stream, in log order up to `to`, while the stream passes' last pages are written. */
  private async othersInLogOrderTo(to: number): Promise<void> {
    // Where each build is once the stream passes' writes are in: a build read stream by stream is at its pass's end.
    const behind = this.all.filter((i) => (this.streamed[i]?.until ?? this.builds[i]!.from) < to);
    // The stream passes' last pages are still being written on the store's thread (0.1–0.17 s of a
    // 233k-event log's replay): the other read models are read in log order meanwhile. Not when a
    // build read stream by stream goes on in log order: it would read documents not written yet.
    if (behind.some((i) => this.streamed[i] !== undefined)) await this.settleStreams();
    if (behind.length > 0) {
      const pass = this.logPass(behind);
      await this.run(pass, behind, () => pass.runTo(to));
    }
    for (const i of behind) this.builds[i] = { ...this.builds[i]!, from: to };
  }

  private async settleStreams(): Promise<void> {
    for (const { pass, indexes, to } of this.unsettled.splice(0)) {
      await pass.settled();
      for (const i of indexes) {
        await this.readModels.commit([], { name: this.builds[i]!.progress, position: to });
        this.builds[i] = { ...this.builds[i]!, from: to };
      }
    }
  }

  /** Every build in log order to `until`, with its indexes, left beside the live collections. */
  async finishUntil(until: number): Promise<RebuildResult[]> {
    const pass = this.logPass(this.all);
    await this.run(pass, this.all, () => pass.runTo(until));
    await this.withIndexes();
    this.report(until, until, { read: 0 });
    return this.results(until, false);
  }

  /**
   * Every build in log order to the head, then swapped in. Only once every build is at or past its
   * live checkpoint: a live projector (here or in the running service) then skips, by each
   * document's position, the events the new copy already has.
   */
  async finishAndSwap(): Promise<RebuildResult[]> {
    const pass = this.logPass(this.all);
    const behindLive = async () => {
      for (const b of this.builds) if ((await this.readModels.getCheckpoint(checkpointName(b.projection))) > Math.max(pass.position, b.from)) return true;
      return false;
    };
    do await this.run(pass, this.all, () => pass.runTo(undefined));
    while (await behindLive());
    await this.withIndexes();
    // Building the indexes takes seconds on a large log (MongoDB builds them only now): what a
    // running service projected meanwhile went into the live copies, which the swap drops.
    while (await behindLive()) await this.run(pass, this.all, () => pass.runTo(undefined));
    for (const b of this.builds) {
      const position = Math.max(pass.position, b.from);
      await this.readModels.renameCollection(b.target, b.projection.collection.name);
      if (position > 0) await this.readModels.commit([], { name: checkpointName(b.projection), position });
    }
    this.report(pass.position, pass.position, { read: 0 });
    return this.results(pass.position, true);
  }

  private logPass(indexes: readonly number[]): BuildPass {
    const pass: BuildPass = new BuildPass(this.events, this.readModels, indexes.map((i) => this.builds[i]!), this.logger, {
      pageSize: this.options.batchSize ?? PAGE,
      flushEvents: this.options.flushEvents ?? FLUSH_EVENTS,
      maxDocs: this.options.maxDocs ?? MAX_DOCS,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
      onPage: () => this.report(pass.position, this.until ?? this.head, pass),
    });
    return pass;
  }

  /** Runs `pass` (over the builds at `indexes`) with `runTo`, adding up what it read and applied. */
  private async run(pass: Pass, indexes: readonly number[], runTo: () => Promise<void>): Promise<void> {
    const before = { read: pass.read, events: [...pass.events] };
    try {
      await runTo();
    } catch (error) {
      throw error instanceof PassInterrupted ? new RebuildInterruptedError(this.label, error.position) : error;
    } finally {
      this.read += pass.read - before.read;
      pass.events.forEach((n, j) => (this.applied[indexes[j]!]! += n - before.events[j]!));
    }
  }

  private report(position: number, target: number, pass: { read: number }): void {
    this.reached = Math.max(this.reached, position);
    this.options.onProgress?.({ projection: this.label, position: this.reached, target, events: this.read + pass.read });
  }

  private async withIndexes(): Promise<void> {
    for (const b of this.builds) await this.readModels.ensureCollection({ ...b.projection.collection, name: b.target });
  }

  private results(position: number, swapped: boolean): RebuildResult[] {
    return this.builds.map((b, i): RebuildResult => ({
      projection: b.projection.name,
      collection: swapped ? b.projection.collection.name : b.target,
      position: swapped ? Math.max(position, b.from) : position,
      events: this.applied[i]!,
      resumedFrom: this.resumed[i]!.from,
      ...(this.resumed[i]!.afterStream > 0 ? { resumedAfterStreamAt: this.resumed[i]!.afterStream } : {}),
      swapped,
    }));
  }
}
