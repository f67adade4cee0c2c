import type { EventStore, JsonObject, RecordedEvent, Subscription } from '../ports/eventStore.ts';
import type { DocChange, ReadModelStore, StoredDoc } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import { decodeEvent, UnreadableEventError } from '../codec/events.ts';
import type { Projection } from '../projections/projection.ts';

const BATCH = 1000;

export const checkpointName = (projection: Projection, collection = projection.collection.name) => `${collection}@v${projection.version}`;

/**
 * Applies one batch of events to a projection's documents and commits them with the checkpoint.
 * Shared by the live projector and replay, so both build exactly the same documents.
 */
export async function applyBatch(readModels: ReadModelStore, projection: Projection, collection: string, batch: readonly RecordedEvent[], logger: Logger): Promise<number> {
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
  }
  const changes: DocChange[] = [];
  for (const [id, d] of docs) if (!loaded.has(id) || loaded.get(id) !== d) changes.push({ collection, id, doc: d.doc, position: d.position });
  await readModels.commit(changes, { name: checkpointName(projection, collection), position: last.position });
  return batch.length;
}

/** Keeps every projection's read model up to date from a catch-up subscription to $all. */
export class Projector {
  private readonly subscriptions: Subscription<RecordedEvent>[] = [];
  private readonly runs: Promise<void>[] = [];
  /** Last position applied per projection: what /metrics reports as projection lag. */
  readonly positions = new Map<string, number>();

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly projections: readonly Projection[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    for (const projection of this.projections) {
      await this.readModels.ensureCollection(projection.collection);
      const from = await this.readModels.getCheckpoint(checkpointName(projection));
      this.positions.set(projection.name, from);
      const sub = this.events.subscribeToAll({ fromPosition: from, filter: { eventTypes: projection.eventTypes } });
      this.subscriptions.push(sub);
      this.runs.push(this.run(projection, sub));
    }
  }

  private async run(projection: Projection, sub: Subscription<RecordedEvent>): Promise<void> {
    for (;;) {
      const batch = await sub.nextBatch(BATCH);
      if (batch.length === 0) return;
      try {
        await applyBatch(this.readModels, projection, projection.collection.name, batch, this.logger);
      } catch (error) {
        this.logger.error({ err: error, projection: projection.name }, 'projection batch failed; retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      this.positions.set(projection.name, batch.at(-1)?.position ?? 0);
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.close()));
    await Promise.all(this.runs);
  }
}
