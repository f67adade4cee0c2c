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
import { RebuildRun } from './rebuildRun.ts';

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

export { RebuildInterruptedError } from './rebuildRun.ts';

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
 * on together in log order (rebuildRun.ts).
 */
export async function rebuildAll(events: EventStore, readModels: ReadModelStore, projections: readonly Projection[], logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult[]> {
  const run = await RebuildRun.open(events, readModels, projections, logger, options);
  await run.streamByStream();
  return run.until === undefined ? run.finishAndSwap() : run.finishUntil(run.until);
}

/** Log events read per round trip while looking for a time. */
const POSITION_AT_PAGE = 1000;

/**
 * The position of the last event written at or before `iso` (0 when none). Positions are not
 * consecutive (EventStoreDB's are byte offsets, and it reads only from an event's), so there is no
 * bisecting them: the log is read in pages from its start up to the first event written after
 * `iso`, taking `created` to grow with the position. The rebuild that follows reads as far.
 */
export async function positionAt(events: EventStore, iso: string, options: { onProgress?: (position: number, scanned: number) => void; signal?: AbortSignal } = {}): Promise<number> {
  const limit = Date.parse(iso);
  let found = 0;
  let scanned = 0;
  for (;;) {
    if (options.signal?.aborted) throw new PositionSearchInterruptedError(iso, found);
    const page = await events.readAll({ fromPosition: found, maxCount: POSITION_AT_PAGE });
    for (const e of page) {
      if (e.created > limit) return found;
      found = e.position;
    }
    scanned += page.length;
    options.onProgress?.(found, scanned);
    if (page.length < POSITION_AT_PAGE) return found;
  }
}

/** The search for `--until <time>` was stopped (Ctrl-C) before it found the position. */
export class PositionSearchInterruptedError extends Error {
  constructor(readonly iso: string, readonly position: number) {
    super(`stopped while looking for the position of ${iso} (read up to position ${position}); nothing was rebuilt: run it again, or give --until as a position`);
    this.name = 'PositionSearchInterruptedError';
  }
}
