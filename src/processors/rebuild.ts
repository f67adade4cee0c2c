/**
 * Rebuilds a read model from the start of the global log into a fresh collection, blue/green:
 * the live collection keeps serving while `<name>__build` fills, then one rename swaps them and
 * the live checkpoint moves to where the build stopped. Used by `npm run replay` and by the
 * projector when a projection's version changed. Documents come from `applyBatch`, the live
 * projector's own code, so a rebuild builds exactly what the live projection would.
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Projection } from '../projections/projection.ts';
import { applyBatch, checkpointName } from './projector.ts';

export interface RebuildProgress {
  projection: string;
  /** Global position reached, and the one the build is heading for (the head when it started, or --until). */
  position: number;
  target: number;
  /** Events applied in this run (a resumed run counts from where it resumed). */
  events: number;
}

export interface RebuildOptions {
  /** Builds as of this global position into `<name>__until_<position>`, and does not swap. */
  until?: number;
  batchSize?: number;
  onProgress?(progress: RebuildProgress): void;
  /** Aborting stops after the current batch; the next rebuild resumes from the build's checkpoint. */
  signal?: AbortSignal;
}

export interface RebuildResult {
  /** Where the documents are now: the live collection after a swap, else the --until copy. */
  collection: string;
  position: number;
  events: number;
  resumedFrom: number;
  swapped: boolean;
}

export class RebuildInterruptedError extends Error {
  readonly code = 'rebuild_interrupted';
  constructor(readonly projection: string, readonly position: number) {
    super(`rebuild of ${projection} interrupted at position ${position}; run the same command again to resume from there`);
  }
}

export const buildCollection = (p: Projection) => `${p.collection.name}__build`;
export const untilCollection = (p: Projection, position: number) => `${p.collection.name}__until_${position}`;

const BATCH = 2000;

/**
 * Checkpoints only move forward, so a build that starts over cannot reuse the previous build's
 * checkpoint name: each fresh build is a numbered generation with its own progress checkpoint.
 */
async function startOrResume(readModels: ReadModelStore, projection: Projection, target: string): Promise<{ progress: string; from: number }> {
  const generation = `${checkpointName(projection, target)}#generation`;
  const current = await readModels.getCheckpoint(generation);
  const progressOf = (g: number) => `${checkpointName(projection, target)}#${g}`;
  const from = current > 0 ? await readModels.getCheckpoint(progressOf(current)) : 0;
  // No documents left means the last build was swapped away (or never wrote any): start afresh.
  if (current > 0 && from > 0 && (await readModels.count(target)) > 0) return { progress: progressOf(current), from };
  await readModels.commit([], { name: generation, position: current + 1 });
  await readModels.dropCollection(target);
  return { progress: progressOf(current + 1), from: 0 };
}

export async function rebuild(events: EventStore, readModels: ReadModelStore, projection: Projection, logger: Logger, options: RebuildOptions = {}): Promise<RebuildResult> {
  const head = await events.headPosition();
  const until = options.until === undefined ? undefined : Math.min(options.until, head);
  const target = until === undefined ? buildCollection(projection) : untilCollection(projection, until);
  const { progress, from } = await startOrResume(readModels, projection, target);
  await readModels.ensureCollection({ ...projection.collection, name: target });
  if (from > 0) logger.info({ projection: projection.name, collection: target, from }, 'resuming the rebuild from its checkpoint');
  const state = { position: from, events: 0 };
  const batchSize = options.batchSize ?? BATCH;

  /** Applies everything after the build's position up to `limit`, or up to the head as it moves. */
  const catchUp = async (limit: number | undefined): Promise<void> => {
    for (;;) {
      if (options.signal?.aborted) throw new RebuildInterruptedError(projection.name, state.position);
      if (limit !== undefined && state.position >= limit) return;
      let batch = await events.readAll({ fromPosition: state.position, maxCount: batchSize, filter: { eventTypes: projection.eventTypes } });
      if (limit !== undefined) batch = batch.filter((e) => e.position <= limit);
      if (batch.length === 0) return;
      state.events += await applyBatch(readModels, projection, target, batch, logger, progress);
      state.position = batch.at(-1)!.position;
      options.onProgress?.({ projection: projection.name, position: state.position, target: limit ?? head, events: state.events });
    }
  };

  if (until !== undefined) {
    await catchUp(until);
    options.onProgress?.({ projection: projection.name, position: until, target: until, events: state.events });
    return { collection: target, position: until, events: state.events, resumedFrom: from, swapped: false };
  }

  // Swap only once the build is at or past the live checkpoint: a live projector (here or in the
  // running service) then skips, by each document's position, the events the new copy already has.
  const live = checkpointName(projection);
  do await catchUp(undefined);
  while ((await readModels.getCheckpoint(live)) > state.position);
  await readModels.renameCollection(target, projection.collection.name);
  if (state.position > 0) await readModels.commit([], { name: live, position: state.position });
  options.onProgress?.({ projection: projection.name, position: state.position, target: state.position, events: state.events });
  return { collection: projection.collection.name, position: state.position, events: state.events, resumedFrom: from, swapped: true };
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
