/**
 * Where a rebuild's builds stand: the collections they fill, and the checkpoints a build starts
 * from or resumes at (rebuild.ts runs them).
 */
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Projection } from '../projections/projection.ts';
import { checkpointName } from './checkpoints.ts';

export const buildCollection = (p: Projection) => `${p.collection.name}__build`;
export const untilCollection = (p: Projection, position: number) => `${p.collection.name}__until_${position}`;

/** Where a build stands in the stream-by-stream part (streamPass.ts): its checkpoint, how far it got, and up to where it reads. */
export interface StreamsProgress {
  checkpoint: string;
  after: number;
  until: number;
}

/**
 * Checkpoints only move forward, so a build that starts over cannot reuse the previous build's
 * checkpoint name: each fresh build is a numbered generation with its own progress checkpoint.
 * A build that reads stream by stream first (`streamsUntil`: up to there) also has the checkpoint
 * of that part's progress, and the position it reads to, fixed when the generation starts.
 */
export async function startOrResume(readModels: ReadModelStore, projection: Projection, target: string, streamsUntil: number | undefined): Promise<{ progress: string; from: number; streams?: StreamsProgress }> {
  const generation = `${checkpointName(projection, target)}#generation`;
  const current = await readModels.getCheckpoint(generation);
  const progressOf = (g: number) => `${checkpointName(projection, target)}#${g}`;
  const streamsOf = (g: number) => ({ checkpoint: `${progressOf(g)}#streams`, until: `${progressOf(g)}#streams-until` });
  if (current > 0) {
    const from = await readModels.getCheckpoint(progressOf(current));
    // No documents left means the last build was swapped away (or never wrote any): start afresh.
    if (from > 0 && (await readModels.count(target)) > 0) return { progress: progressOf(current), from };
    // Interrupted while reading stream by stream (a build with no documents yet resumes too).
    const names = streamsOf(current);
    const after = from > 0 ? 0 : await readModels.getCheckpoint(names.checkpoint);
    if (after > 0) return { progress: progressOf(current), from: 0, streams: { checkpoint: names.checkpoint, after, until: await readModels.getCheckpoint(names.until) } };
  }
  await readModels.commit([], { name: generation, position: current + 1 });
  await readModels.dropCollection(target);
  if (streamsUntil === undefined || streamsUntil === 0) return { progress: progressOf(current + 1), from: 0 };
  const names = streamsOf(current + 1);
  await readModels.commit([], { name: names.until, position: streamsUntil });
  return { progress: progressOf(current + 1), from: 0, streams: { checkpoint: names.checkpoint, after: 0, until: streamsUntil } };
}
