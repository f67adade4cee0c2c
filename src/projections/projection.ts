import type { JsonObject } from '../ports/eventStore.ts';
import type { CollectionSpec } from '../ports/readModelStore.ts';
import type { HeraldEventType, Recorded } from '../domain/events.ts';

/**
 * A read model as a pure function: which document an event touches, and (document, event) →
 * document. The projector stores each document with the position of the last event applied, so
 * an event seen twice is skipped before `evolve` is called.
 */
export interface Projection<D extends JsonObject = JsonObject> {
  name: string;
  /** Bump when `evolve` changes meaning: the read model is then rebuilt from the log. */
  version: number;
  collection: CollectionSpec;
  eventTypes: readonly HeraldEventType[];
  keyOf(event: Recorded): string | null;
  evolve(doc: D | null, event: Recorded): D | null;
  /**
   * For a projection whose events also update further documents of the same collection: `evolve`
   * and those documents in one step, which the projector then uses instead of `evolve`. Analytics
   * buckets need the channel and category that only NotificationRequested carries, so the
   * per-notification document says which buckets to count in, and one step computes both.
   */
  evolveWithFanOut?(doc: D | null, event: Recorded): { doc: D | null; fanOut: readonly FanOut[] };
  /**
   * Every document `keyOf` names is written by the events of one stream only, and the fan-out
   * documents of `evolveWithFanOut`, if any, come out the same whatever order their events are
   * applied in (counts, sums). A rebuild may then read the log stream by stream
   * (`EventStore.readStreamsInOrder`, see streamPass.ts) and write each document once, as soon as
   * its stream is read. Leave it unset when in doubt: the rebuild then reads the log in order.
   */
  streamLocal?: boolean;
}

export interface FanOut {
  key: string;
  evolve(doc: JsonObject | null): JsonObject | null;
}
