/** The first step of a rebuild run (rebuildRun.ts): a build per projection, started or resumed. */
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Projection } from '../projections/projection.ts';
import type { Build } from './buildPass.ts';
import { buildCollection, startOrResume, untilCollection, type StreamsProgress } from './buildProgress.ts';
import type { RebuildOptions } from './rebuild.ts';
import type { StreamLog } from './streamPass.ts';

export interface OpenedBuilds {
  /** The head when the run began, and --until (capped at it) if given. */
  head: number;
  until: number | undefined;
  /** The store, when the stream-local builds are read stream by stream. */
  streamLog: StreamLog | undefined;
  builds: Build[];
  /** Each build's stream-by-stream progress, where it is built that way. */
  streamed: (StreamsProgress | undefined)[];
}

/** Starts or resumes a build per projection, into a collection without its indexes yet. */
export async function openBuilds(events: EventStore, readModels: ReadModelStore, projections: readonly Projection[], logger: Logger, options: RebuildOptions): Promise<OpenedBuilds> {
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
  return { head, until, streamLog, builds, streamed };
}
