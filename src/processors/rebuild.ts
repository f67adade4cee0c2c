/**
 * Rebuilds read models from the start of the global log into fresh collections, blue/green: the
 * live collections keep serving while `<name>__build` fills, then one rename per read model swaps
 * them and each live checkpoint moves to where the build stopped. Used by `npm run replay` and by
 * the projector when a projection's version changed. Several read models are built together:
 * stream-local ones stream by stream where the store can (streamPass.ts), the rest in one pass
 * over the log in order (buildPass.ts), all with the live projector's own document logic
 * (evolveDocs.ts), so a rebuild builds exactly what the live projection would.
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Projection } from '../projections/projection.ts';
import { BuildPass, PassInterrupted, type Build } from './buildPass.ts';
import { buildCollection, startOrResume, untilCollection, type StreamsProgress } from './buildProgress.ts';
import { checkpointName } from './checkpoints.ts';
import { StreamPass, type StreamBuild, type StreamLog } from './streamPass.ts';

export interface RebuildProgress {
  /** The read models being built, by name. */
  projection: string;
  /** Global position reached (never less than in an earlier report), and the one the build is heading for (the head when it started, or --until). */
  position: number;
  target: number;
  /** Log events read in this run (a resumed run counts from where it resumed). */
  events: number;
}

export interface RebuildOptions {
  /** Builds as of this global position into `<name>__until_<position>`, and does not swap. */
  until?: number;
  /** Log events read per page. */
  batchSize?: number;
  /** Log events between commits of the builds' documents and checkpoints. */
  flushEvents?: number;
  /** Documents each build keeps in memory between flushes (the memory bound). */
  maxDocs?: number;
  onProgress?(progress: RebuildProgress): void;
  /** Aborting stops after the current page, commits what is built; the next rebuild resumes from there. */
  signal?: AbortSignal;
  /** Reads the log in order for every read model, even where the store could read it stream by stream. */
  inLogOrder?: boolean;
}

export interface RebuildResult {
  projection: string;
  /** Where the documents are now: the live collection after a swap, else the --until copy. */
  collection: string;
  position: number;
  /** Events applied to this read model in this run. */
  events: number;
  resumedFrom: number;
  /** Set when this run resumed a build stream by stream: the first position of the last stream it had. */
  resumedAfterStreamAt?: number;
  swapped: boolean;
}

export class RebuildInterruptedError extends Error {
  readonly code = 'rebuild_interrupted';
  constructor(readonly projection: string, readonly position: number) {
    super(`rebuild of ${projection} interrupted at position ${position}; run the same command again to resume from there`);
  }
}

// Small pages: a page's parsed events are alive until it is applied, and with 10,000 of them
// every young-generation GC found one alive and copied it (1,000: ≈10 % less CPU in all, 2026-11-27).
const PAGE = 1_000;
const FLUSH_EVENTS = 50_000;
const MAX_DOCS = 20_000;
/**
 * Streams per page of the stream-by-stream part: about 200 events of notifications. A page's
 * events, read at once, stay alive until it is written; with 1,000 streams they outlived two
 * young-generation collections and were copied to the old one, which cost more than the page's
 * queries (2026-11-27: 346 against 129 MB promoted, 571 against 325 ms of pauses).
 */
const PAGE_STREAMS = 100;

/** Rebuilds one read model: what the projector's version upgrade uses. */
export async function rebuild(events: EventStore, readModels: ReadModelStore, projection: Projection, logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult> {
  const [result] = await rebuildAll(events, readModels, [projection], logger, options);
  return result!;
}

/**
 * Rebuilds several read models together; one result per projection, in order. Where the event
 * store reads the log stream by stream, stream-local read models
 * (Projection.streamLocal) are first built that way up to the head as it was when their build
 * began (streamPass.ts), and the others in log order up to the same position; then all of them go
 * on together in log order.
 */
export async function rebuildAll(events: EventStore, readModels: ReadModelStore, projections: readonly Projection[], logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult[]> {
  const head = await events.headPosition();
  const until = options.until === undefined ? undefined : Math.min(options.until, head);
  const streamLog = events.readStreamsInOrder && !options.inLogOrder ? (events as StreamLog) : undefined;
  const builds: Build[] = [];
  const streamed: (StreamsProgress | undefined)[] = [];
  for (const projection of projections) {
    const target = until === undefined ? buildCollection(projection) : untilCollection(projection, until);
    const { progress, from, streams } = await startOrResume(readModels, projection, target, streamLog && projection.streamLocal ? (until ?? head) : undefined);
    // Indexes are made once the documents are in: one index build is cheaper than keeping it
    // sorted through every insert, and nothing queries a build collection meanwhile. The columns
    // of stable indexes are there from the start, so the documents fill them as they go in.
    await readModels.ensureCollection({ ...projection.collection, name: target }, { deferIndexes: true });
    if (from > 0) logger.info({ projection: projection.name, collection: target, from }, 'resuming the rebuild from its checkpoint');
    if (streams && streams.after > 0) logger.info({ projection: projection.name, collection: target, afterStreamAt: streams.after }, 'resuming the rebuild stream by stream, after the stream that begins at its checkpoint');
    builds.push({ projection, target, progress, from });
    streamed.push(streams);
  }
  const resumed = builds.map((b, i) => ({ from: b.from, afterStream: streamed[i]?.after ?? 0 }));
  const all = builds.map((_, i) => i);
  const label = projections.map((p) => p.name).join(', ');
  const applied = builds.map(() => 0);
  let read = 0;
  // Never backwards: the log-order part starts again from the beginning of the log after the
  // stream passes have reached its end, and a progress bar that drops back reads as a fault.
  let reached = 0;
  const report = (position: number, target: number, pass: { read: number }) => {
    reached = Math.max(reached, position);
    options.onProgress?.({ projection: label, position: reached, target, events: read + pass.read });
  };

  /** Runs `pass` (over the builds at `indexes`) with `runTo`, adding up what it read and applied. */
  const run = async (pass: StreamPass | BuildPass, indexes: readonly number[], runTo: () => Promise<void>) => {
    const before = { read: pass.read, events: [...pass.events] };
    try {
      await runTo();
    } catch (error) {
      throw error instanceof PassInterrupted ? new RebuildInterruptedError(label, error.position) : error;
    } finally {
      read += pass.read - before.read;
      pass.events.forEach((n, j) => (applied[indexes[j]!]! += n - before.events[j]!));
    }
  };
  const logPass = (indexes: readonly number[]) => {
    const pass: BuildPass = new BuildPass(events, readModels, indexes.map((i) => builds[i]!), logger, {
      pageSize: options.batchSize ?? PAGE,
      flushEvents: options.flushEvents ?? FLUSH_EVENTS,
      maxDocs: options.maxDocs ?? MAX_DOCS,
      ...(options.signal ? { signal: options.signal } : {}),
      onPage: () => report(pass.position, until ?? head, pass),
    });
    return pass;
  };

  // Stream by stream, each build up to the position its generation fixed (one, unless a build
  // started over while others resumed); then the others in log order up to the furthest of those.
  const byUntil = new Map<number, number[]>();
  streamed.forEach((s, i) => s && byUntil.set(s.until, [...(byUntil.get(s.until) ?? []), i]));
  const streamPasses: { pass: StreamPass; indexes: number[]; to: number }[] = [];
  const settleStreams = async () => {
    for (const { pass, indexes, to } of streamPasses.splice(0)) {
      await pass.settled();
      for (const i of indexes) {
        await readModels.commit([], { name: builds[i]!.progress, position: to });
        builds[i] = { ...builds[i]!, from: to };
      }
    }
  };
  try {
    for (const [to, indexes] of byUntil) {
      const pass: StreamPass = new StreamPass(streamLog!, readModels, indexes.map((i): StreamBuild => ({ ...builds[i]!, streams: streamed[i]! })), logger, {
        pageStreams: PAGE_STREAMS,
        maxDocs: options.maxDocs ?? MAX_DOCS,
        ...(options.signal ? { signal: options.signal } : {}),
        onPage: () => report(pass.position, to, pass),
      });
      await run(pass, indexes, () => pass.readTo(to));
      streamPasses.push({ pass, indexes, to });
    }
    if (byUntil.size > 0) {
      const to = Math.max(...byUntil.keys());
      // Where each build is once the stream passes' writes are in: a build read stream by stream is at its pass's end.
      const behind = all.filter((i) => (streamed[i]?.until ?? builds[i]!.from) < to);
      // The stream passes' last pages are still being written on the store's thread (0.1–0.17 s of a
      // 233k-event log's replay): the other read models are read in log order meanwhile. Not when a
      // build read stream by stream goes on in log order: it would read documents not written yet.
      if (behind.some((i) => streamed[i] !== undefined)) await settleStreams();
      if (behind.length > 0) {
        const pass = logPass(behind);
        await run(pass, behind, () => pass.runTo(to));
      }
      for (const i of behind) builds[i] = { ...builds[i]!, from: to };
    }
  } finally {
    // Every stream pass's pages written and its progress recorded, a later step's failure included.
    await settleStreams();
  }

  const pass = logPass(all);
  const withIndexes = async () => {
    for (const b of builds) await readModels.ensureCollection({ ...b.projection.collection, name: b.target });
  };
  const results = (position: number, swapped: boolean) =>
    builds.map((b, i): RebuildResult => ({
      projection: b.projection.name,
      collection: swapped ? b.projection.collection.name : b.target,
      position: swapped ? Math.max(position, b.from) : position,
      events: applied[i]!,
      resumedFrom: resumed[i]!.from,
      ...(resumed[i]!.afterStream > 0 ? { resumedAfterStreamAt: resumed[i]!.afterStream } : {}),
      swapped,
    }));

  if (until !== undefined) {
    await run(pass, all, () => pass.runTo(until));
    await withIndexes();
    report(until, until, { read: 0 });
    return results(until, false);
  }

  // Swap only once every build is at or past its live checkpoint: a live projector (here or in
  // the running service) then skips, by each document's position, the events the new copy already has.
  const behindLive = async () => {
    for (const b of builds) if ((await readModels.getCheckpoint(checkpointName(b.projection))) > Math.max(pass.position, b.from)) return true;
    return false;
  };
  do await run(pass, all, () => pass.runTo(undefined));
  while (await behindLive());
  await withIndexes();
  for (const b of builds) {
    const position = Math.max(pass.position, b.from);
    await readModels.renameCollection(b.target, b.projection.collection.name);
    if (position > 0) await readModels.commit([], { name: checkpointName(b.projection), position });
  }
  report(pass.position, pass.position, { read: 0 });
  return results(pass.position, true);
}

/** The position of the last event written at or before `iso` (0 when none): a binary search on `created`. */
export async function positionAt(events: EventStore, iso: string): Promise<number> {
  const limit = Date.parse(iso);
  let lo = 0;
  let hi = await events.headPosition();
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const [first] = await events.readAll({ fromPosition: mid - 1, maxCount: 1 });
    if (first && first.position <= hi && first.created <= limit) lo = first.position;
    else hi = mid - 1;
  }
  return lo;
}
