import type { EventStore, JsonObject, RecordedEvent, Subscription } from '../ports/eventStore.ts';
import type { DocChange, ReadModelStore, StoredDoc } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import { decodeEvent, UnreadableEventError } from '../codec/events.ts';
import type { Projection } from '../projections/projection.ts';
// rebuild.ts imports applyBatch from here; the cycle is safe because neither uses the other at load time.
import { rebuild, RebuildInterruptedError } from './rebuild.ts';

const BATCH = 1000;

export const checkpointName = (projection: Projection, collection = projection.collection.name) => `${collection}@v${projection.version}`;

/**
 * Applies one batch of events to a projection's documents and commits them with the checkpoint.
 * Shared by the live projector and replay, so both build exactly the same documents.
 */
export async function applyBatch(
  readModels: ReadModelStore, projection: Projection, collection: string, batch: readonly RecordedEvent[], logger: Logger,
  checkpoint = checkpointName(projection, collection),
): Promise<number> {
  const last = batch.at(-1);
  if (!last) return 0;
  const decoded = [];
  for (const raw of batch) {
    try {
      const event = decodeEvent(raw);
      const key = event && projection.keyOf(event);
      if (event && key) decoded.push({ event, key });
    } catch (error) {
      if (!(error instanceof UnreadableEventError)) throw error;
      logger.error({ err: error, projection: projection.name }, 'skipping an unreadable event');
    }
  }
  const loaded = await readModels.getMany(collection, [...new Set(decoded.map((d) => d.key))]);
  const docs = new Map<string, StoredDoc | { id: string; position: number; doc: JsonObject | null }>(loaded);
  for (const { event, key } of decoded) {
    const current = docs.get(key);
    if (current && current.position >= event.position) continue;
    const doc = projection.evolve((current?.doc ?? null), event);
    docs.set(key, { id: key, position: event.position, doc });
    // Fan-out documents (analytics buckets) are found from the evolved main document, so they load
    // lazily; each keeps its own position guard, exactly like the main document.
    for (const extra of projection.fanOut?.(current?.doc ?? null, doc, event) ?? []) {
      if (!docs.has(extra.key)) {
        const found = await readModels.get(collection, extra.key);
        if (found) loaded.set(extra.key, found);
        docs.set(extra.key, found ?? { id: extra.key, position: 0, doc: null });
      }
      const target = docs.get(extra.key);
      if (target && target.position >= event.position) continue;
      docs.set(extra.key, { id: extra.key, position: event.position, doc: extra.evolve(target?.doc ?? null) });
    }
  }
  const changes: DocChange[] = [];
  for (const [id, d] of docs) if (!loaded.has(id) || loaded.get(id) !== d) changes.push({ collection, id, doc: d.doc, position: d.position });
  await readModels.commit(changes, { name: checkpoint, position: last.position });
  return batch.length;
}

/** Keeps every projection's read model up to date from a catch-up subscription to $all. */
export class Projector {
  private readonly subscriptions: Subscription<RecordedEvent>[] = [];
  private readonly runs: Promise<void>[] = [];
  /** Last position applied per projection: what /metrics reports as projection lag. */
  readonly positions = new Map<string, number>();
  /** Aborted on stop: a version rebuild in progress ends after its batch and resumes next start. */
  private readonly upgrades = new AbortController();

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly logger: Logger,
    /** After a small batch, wait this long so the next commit carries more events. */
    private readonly gatherMs = 20,
  ) {}

  async start(): Promise<void> {
    for (const projection of this.projections) {
      await this.readModels.ensureCollection(projection.collection);
      const from = await this.readModels.getCheckpoint(checkpointName(projection));
      this.positions.set(projection.name, from);
      const previous = from === 0 ? await this.builtByOtherVersion(projection) : null;
      if (previous) this.runs.push(this.upgrade(projection, previous));
      else this.runs.push(this.follow(projection, from));
    }
  }

  private follow(projection: Projection, from: number): Promise<void> {
    const sub = this.events.subscribeToAll({ fromPosition: from, filter: { eventTypes: projection.eventTypes } });
    this.subscriptions.push(sub);
    return this.run(projection, sub);
  }

  /** No checkpoint for this version, yet documents or an older version's checkpoint: the code changed. */
  private async builtByOtherVersion(projection: Projection): Promise<string | null> {
    for (let v = projection.version - 1; v >= 1; v -= 1) {
      if ((await this.readModels.getCheckpoint(`${projection.collection.name}@v${v}`)) > 0) return `v${v}`;
    }
    return (await this.readModels.count(projection.collection.name)) > 0 ? 'an earlier version' : null;
  }

  /** Rebuilds blue/green in the background (the old documents keep serving), swaps, then follows the log. */
  private async upgrade(projection: Projection, previous: string): Promise<void> {
    const log = this.logger.child({ projection: projection.name });
    log.info({ from: previous, to: `v${projection.version}` }, `projection ${projection.name} changed from ${previous} to v${projection.version}: rebuilding it from the log blue/green; ${previous} keeps serving until the swap`);
    while (!this.upgrades.signal.aborted) {
      try {
        const done = await rebuild(this.events, this.readModels, projection, log, { signal: this.upgrades.signal });
        log.info({ events: done.events, position: done.position }, `projection ${projection.name} v${projection.version} rebuilt and swapped in; following the log`);
        this.positions.set(projection.name, done.position);
        if (this.upgrades.signal.aborted) return;
        return await this.follow(projection, done.position);
      } catch (error) {
        if (error instanceof RebuildInterruptedError) return log.warn({ position: error.position }, 'rebuild stopped by shutdown; it resumes from its checkpoint on the next start');
        log.error({ err: error }, 'rebuild failed; the old version keeps serving; retrying in 5 s from the build checkpoint');
        await new Promise((r) => setTimeout(r, 5000));
      }
    }
  }

  private async run(projection: Projection, sub: Subscription<RecordedEvent>): Promise<void> {
    for (;;) {
      const batch = await sub.nextBatch(BATCH);
      if (batch.length === 0) return;
      if (!(await this.applyUntilDone(projection, batch))) return;
      this.positions.set(projection.name, batch.at(-1)?.position ?? 0);
      // A trickle of events would mean a commit per event and a rewrite of the same documents; a
      // short pause lets the next batch carry several events of one notification into one write.
      if (batch.length < BATCH / 2 && this.gatherMs > 0) await new Promise((r) => setTimeout(r, this.gatherMs));
    }
  }

  /** Retries a failed batch (the store may be away) rather than skipping it; false once stopping. */
  private async applyUntilDone(projection: Projection, batch: RecordedEvent[]): Promise<boolean> {
    for (;;) {
      try {
        await applyBatch(this.readModels, projection, projection.collection.name, batch, this.logger);
        return true;
      } catch (error) {
        if (this.upgrades.signal.aborted) return false;
        this.logger.error({ err: error, projection: projection.name }, 'projection batch failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async stop(): Promise<void> {
    this.upgrades.abort();
    await Promise.all(this.subscriptions.map((s) => s.close()));
    await Promise.all(this.runs);
  }
}
