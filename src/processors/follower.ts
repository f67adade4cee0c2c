/**
 * Follows the log for several projections with one catch-up subscription: each batch is read and
 * decoded once, then every projection applies the events of its types and commits them with its
 * own checkpoint, so each still resumes from where it stopped.
 */
import type { EventStore, RecordedEvent, Subscription } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Projection } from '../projections/projection.ts';
import { checkpointName } from './checkpoints.ts';
import { DocCache, type Keyed } from './docCache.ts';
import { Dispatcher } from './dispatch.ts';
import { ProjectionFault } from './projectionFault.ts';
import { LogEvery } from '../logEvery.ts';
import { BATCH, gatherPause, type Gather } from './gatherPause.ts';

/** A batch the store failed is tried again this often; its error is logged when it starts and this often after. */
const RETRY_MS = 1_000;
const FAILURE_LOG_EVERY_MS = 60_000;

/**
 * A projection whose types are rare (preferences, rate windows) still gets its checkpoint moved
 * this far behind the log at the latest, so a restart does not read that quiet stretch again.
 */
const IDLE_CHECKPOINT = 10_000;

export interface Member {
  projection: Projection;
  /** Its checkpoint: every event up to here is applied. */
  from: number;
}

export interface FollowerOptions {
  /** Last position applied per projection name, kept up to date after every batch. */
  positions: Map<string, number>;
  /** How long to wait after a batch so the next commit carries more events (see gatherPause). */
  gather: Gather;
  /** Set when stopping: a failing batch is no longer retried. */
  stopping: AbortSignal;
  /** Names of the projections stopped by a fault of their own code, for /metrics. */
  stopped?: Set<string>;
  /** Unreadable events each projection skipped, for /metrics. */
  unreadable?: Map<string, number>;
}

/** Commits one projection's events of a batch, with its checkpoint, as one write. */
export async function applyKeyed(readModels: ReadModelStore, projection: Projection, collection: string, items: readonly Keyed[], checkpoint: { name: string; position: number }): Promise<void> {
  const docs = new DocCache(readModels, projection, collection, true);
  await docs.apply(items);
  await readModels.commit(docs.takeChanges(), checkpoint);
}

export class Follower {
  private readonly sub: Subscription<RecordedEvent>;
  private readonly dispatcher: Dispatcher;
  private readonly applied: number[];
  private readonly committed: number[];
  /** Projections stopped by a ProjectionFault: the others go on without them. */
  private readonly stopped: boolean[];

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly members: readonly Member[],
    private readonly logger: Logger,
    private readonly options: FollowerOptions,
  ) {
    this.dispatcher = new Dispatcher(members.map((m) => m.projection), logger, options.unreadable);
    this.applied = members.map((m) => m.from);
    this.committed = [...this.applied];
    this.stopped = members.map(() => false);
    const from = Math.min(...this.applied);
    this.sub = events.subscribeToAll({ fromPosition: from, filter: { eventTypes: this.dispatcher.eventTypes } });
  }

  async run(): Promise<void> {
    for (;;) {
      const batch = await this.sub.nextBatch(BATCH);
      const last = batch.at(-1)?.position;
      if (last === undefined) return;
      const routed = this.dispatcher.dispatch(batch, this.applied, this.stopped);
      for (const [i, { projection }] of this.members.entries()) {
        if (this.stopped[i]) continue;
        const { items, last: own, fault } = routed[i]!;
        if (fault) {
          this.stop(i, fault);
          continue;
        }
        // Committed when the batch had events of its types (even ones it skips), so its checkpoint
        // is never behind one of them; otherwise only now and then.
        if (own > 0 || last - this.committed[i]! >= IDLE_CHECKPOINT) {
          const done = await this.applyUntilDone(projection, items, last);
          if (done instanceof ProjectionFault) {
            this.stop(i, done);
            continue;
          }
          if (!done) return;
          this.committed[i] = last;
          // The embedded store answers without waiting on I/O, so a large batch would hold the thread
          // (and the deliveries that share it) for all read models at once: let them in between.
          if (items.length > 0) await new Promise((resolve) => setImmediate(resolve));
        }
        this.applied[i] = last;
        this.options.positions.set(projection.name, last);
      }
      // A trickle of events would mean a commit per event and a rewrite of the same documents; a
      // pause lets the next batch carry more events, and several events of one notification into one write.
      const pause = gatherPause(batch.length, this.options.gather);
      if (pause > 0) await this.pauseWhileBusy(pause);
    }
  }

  /**
   * Waits `ms`, but no longer once the log has gone quiet: the head checked every `minMs` (the
   * pause under a trickle) has not moved. Under load the whole pause gathers a larger commit;
   * when a burst ends, the read models catch up within about two such steps instead of waiting
   * out the longest pause for events that are not coming.
   */
  private async pauseWhileBusy(ms: number): Promise<void> {
    const step = Math.max(1, this.options.gather.minMs);
    const end = performance.now() + ms;
    let head = await this.events.headPosition().catch(() => undefined);
    for (let left = ms; left > 0; left = end - performance.now()) {
      await new Promise((r) => setTimeout(r, Math.min(step, left)));
      if (head === undefined) continue;
      const now = await this.events.headPosition().catch(() => undefined);
      if (now === head) return;
      head = now;
    }
  }

  /**
   * Stops one projection whose own code threw: the same event would fail the same way on every
   * retry, and retrying would hold every other read model back with it. Its read model stays at
   * its last commit; a restart retries from there, once the projection is fixed.
   */
  private stop(i: number, fault: ProjectionFault): void {
    const { name } = this.members[i]!.projection;
    this.stopped[i] = true;
    this.options.stopped?.add(name);
    this.logger.error(
      { err: fault.failure, projection: name, event: fault.event, appliedUpTo: this.applied[i] },
      `${fault.message}. This read model stops at position ${this.applied[i]} and the others go on; fix the projection, then restart Herald (it resumes from there) or rebuild it with \`npm run replay -- ${name}\``,
    );
  }

  /**
   * Retries a failed batch (the store may be away) rather than skipping it; false once stopping.
   * A fault of the projection's own code is returned instead: retrying it cannot help.
   */
  private async applyUntilDone(projection: Projection, items: readonly Keyed[], position: number): Promise<boolean | ProjectionFault> {
    let failures = 0;
    const every = new LogEvery(FAILURE_LOG_EVERY_MS);
    for (;;) {
      try {
        await applyKeyed(this.readModels, projection, projection.collection.name, items, { name: checkpointName(projection), position });
        if (failures > 0) this.logger.info({ projection: projection.name, failures }, 'projection batch applied after failing; the read model goes on');
        return true;
      } catch (error) {
        if (error instanceof ProjectionFault) return error;
        if (this.options.stopping.aborted) return false;
        failures += 1;
        // When it starts failing, then once a minute: a store away for an hour (a full disk) would
        // otherwise log a line per read model every second.
        if (every.due() > 0) {
          this.logger.error({ err: error, projection: projection.name, failures }, failures === 1
            ? 'projection batch failed; retrying every second (logged again once a minute while it fails)'
            : `projection batch still failing after ${failures} tries; retrying every second`);
        }
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }

  close(): Promise<void> {
    return this.sub.close();
  }
}
