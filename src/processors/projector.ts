import type { EventStore, RecordedEvent } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Projection } from '../projections/projection.ts';
import { checkpointName } from './checkpoints.ts';
import { Dispatcher } from './dispatch.ts';
import { applyKeyed, Follower, type Member } from './follower.ts';
import type { Gather } from './gatherPause.ts';
import { rebuild, RebuildInterruptedError } from './rebuild.ts';
import { ProjectionFault } from './projectionFault.ts';

export { checkpointName };

/**
 * Applies one batch of raw events (decoded here) to a projection's documents in `collection` and
 * commits them with the checkpoint; the live projector's own code, for callers that hold a page of
 * the log (the benchmark builds its history with it).
 */
export async function applyBatch(
  readModels: ReadModelStore, projection: Projection, collection: string, batch: readonly RecordedEvent[], logger: Logger,
  checkpoint = checkpointName(projection, collection),
): Promise<number> {
  const last = batch.at(-1);
  if (!last) return 0;
  const [routed] = new Dispatcher([projection], logger).dispatch(batch, [0]);
  if (routed!.fault) throw routed!.fault;
  await applyKeyed(readModels, projection, collection, routed!.items, { name: checkpoint, position: last.position });
  return batch.length;
}

/** Keeps every projection's read model up to date from one catch-up subscription to $all. */
export class Projector {
  private readonly followers: Follower[] = [];
  private readonly runs: Promise<void>[] = [];
  /** Last position applied per projection: what /metrics reports as projection lag. */
  readonly positions = new Map<string, number>();
  /** Projections stopped by a fault of their own code (Follower): /metrics reports them. */
  readonly stopped = new Set<string>();
  /** Unreadable events each projection skipped since start (Dispatcher): /metrics reports them. */
  readonly unreadable = new Map<string, number>();
  /** Aborted on stop: a version rebuild in progress ends after its batch and resumes next start. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    readonly projections: readonly Projection[],
    private readonly logger: Logger,
    /** How long the follower waits between batches so that commits carry more events (see gatherPause). */
    private readonly gather: Gather = { minMs: 20, maxMs: 250 },
  ) {}

  async start(): Promise<void> {
    const members: Member[] = [];
    for (const projection of this.projections) {
      await this.readModels.ensureCollection(projection.collection);
      const from = await this.readModels.getCheckpoint(checkpointName(projection));
      this.positions.set(projection.name, from);
      const previous = from === 0 ? await this.builtByOtherVersion(projection) : null;
      if (previous) this.runs.push(this.upgrade(projection, previous));
      else members.push({ projection, from });
    }
    if (members.length > 0) this.runs.push(this.follow(members));
  }

  private follow(members: readonly Member[]): Promise<void> {
    const follower = new Follower(this.events, this.readModels, members, this.logger, { positions: this.positions, gather: this.gather, stopping: this.stopping.signal, stopped: this.stopped, unreadable: this.unreadable });
    this.followers.push(follower);
    return follower.run();
  }

  /** No checkpoint for this version, yet documents or an older version's checkpoint: the code changed. */
  private async builtByOtherVersion(projection: Projection): Promise<string | null> {
    for (let v = projection.version - 1; v >= 1; v -= 1) {
      if ((await this.readModels.getCheckpoint(`${projection.collection.name}@v${v}`)) > 0) return `v${v}`;
    }
    return (await this.readModels.count(projection.collection.name)) > 0 ? 'an earlier version' : null;
  }

  /**
   * Rebuilds blue/green in the background (the old documents keep serving), swaps, then follows
   * the log with a subscription of its own: the shared one is elsewhere in the log by then, and
   * the next start puts this projection back on it.
   */
  private async upgrade(projection: Projection, previous: string): Promise<void> {
    const log = this.logger.child({ projection: projection.name });
    log.info({ from: previous, to: `v${projection.version}` }, `projection ${projection.name} changed from ${previous} to v${projection.version}: rebuilding it from the log blue/green; ${previous} keeps serving until the swap`);
    while (!this.stopping.signal.aborted) {
      try {
        // Small pages: the service stays responsive between them while the rebuild runs alongside.
        const done = await rebuild(this.events, this.readModels, projection, log, { signal: this.stopping.signal, batchSize: 2_000 });
        log.info({ events: done.events, position: done.position }, `projection ${projection.name} v${projection.version} rebuilt and swapped in; following the log`);
        this.positions.set(projection.name, done.position);
        if (this.stopping.signal.aborted) return;
        return await this.follow([{ projection, from: done.position }]);
      } catch (error) {
        if (error instanceof RebuildInterruptedError) return log.warn({ position: error.position }, 'rebuild stopped by shutdown; it resumes from its checkpoint on the next start');
        // The new version's own code fails on an event: every retry would fail the same way.
        if (error instanceof ProjectionFault) {
          this.stopped.add(projection.name);
          return log.error({ err: error.failure, event: error.event }, `${error.message}. The rebuild to v${projection.version} stops at its build checkpoint and ${previous} keeps serving; the other read models go on. Fix the projection, then restart Herald: the rebuild resumes from there`);
        }
        log.error({ err: error }, 'rebuild failed; the old version keeps serving; retrying in 5 s from the build checkpoint');
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.followers.map((f) => f.close()));
    await Promise.all(this.runs);
  }
}
