/**
 * Hands one page of the log to several projections: each event is decoded (zod) once, however
 * many projections take it, and each projection gets the events of its types with their key.
 */
import type { RecordedEvent } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { decodeEvent, UnreadableEventError } from '../codec/events.ts';
import type { Projection } from '../projections/projection.ts';
import type { Keyed } from './docCache.ts';
import { ProjectionFault } from './projectionFault.ts';

/** One projection's share of a page. */
export interface Routed {
  items: Keyed[];
  last: number;
  fault?: ProjectionFault;
}

export class Dispatcher {
  /** Event type → indexes of the projections that take it. */
  private readonly byType = new Map<string, number[]>();

  constructor(
    private readonly projections: readonly Projection[],
    private readonly logger: Logger,
    /** Unreadable events skipped, per projection name (the live projector's, for /metrics). */
    private readonly unreadable?: Map<string, number>,
  ) {
    projections.forEach((p, i) => {
      for (const type of p.eventTypes) this.byType.set(type, [...(this.byType.get(type) ?? []), i]);
    });
  }

  /** Every type some projection takes: the filter for reading the log. */
  get eventTypes(): string[] {
    return [...this.byType.keys()];
  }

  /**
   * The events of `page` per projection (same order as the constructor's list), skipping those at
   * or before `after[i]`, which projection i already has, and those `keyOf` gives no document for;
   * `last` is the position of the last event of its types, applied or not (0 when none). A
   * projection whose `keyOf` throws gets a `fault` and nothing more from this page; one marked in
   * `skip` gets nothing.
   */
  dispatch(page: readonly RecordedEvent[], after: readonly number[], skip: readonly boolean[] = []): Routed[] {
    const out: Routed[] = this.projections.map(() => ({ items: [], last: 0 }));
    const behind = Math.max(...after);
    const left = (i: number) => !skip[i] && !out[i]!.fault;
    const skipping = skip.some(Boolean);
    // Faults found in this page: while none, no taker list is filtered for them.
    let faults = 0;
    for (const raw of page) {
      const all = this.byType.get(raw.type);
      // Past every projection's position (all but the first page of a resumed run) nothing is filtered.
      let takers = raw.position > behind ? all : all?.filter((i) => raw.position > after[i]!);
      if (takers && (skipping || faults > 0)) takers = takers.filter(left);
      if (!takers || takers.length === 0) continue;
      for (const i of takers) out[i]!.last = raw.position;
      const event = this.decode(raw, takers);
      if (!event) continue;
      for (const i of takers) {
        let key: string | null;
        try {
          key = this.projections[i]!.keyOf(event);
        } catch (error) {
          out[i]!.fault = new ProjectionFault(this.projections[i]!.name, event, error);
          faults += 1;
          continue;
        }
        if (key) out[i]!.items.push({ event, key });
      }
    }
    return out;
  }

  private decode(raw: RecordedEvent, takers: readonly number[]) {
    try {
      return decodeEvent(raw);
    } catch (error) {
      if (!(error instanceof UnreadableEventError)) throw error;
      // Its data does not match the schema of its type, so no projection can apply it: every read
      // model that takes the type goes on without it, rather than stopping on it for good.
      const names = takers.map((i) => this.projections[i]!.name);
      for (const name of names) this.unreadable?.set(name, (this.unreadable.get(name) ?? 0) + 1);
      this.logger.error(
        { err: error, event: { type: raw.type, position: raw.position, streamName: raw.streamName }, projections: names },
        `${error.message}. The read models ${names.join(', ')} skip it and go on (herald_projection_unreadable_events_total counts it); an event another version of Herald wrote needs that version's code: see docs/replay.md`,
      );
      return null;
    }
  }
}
