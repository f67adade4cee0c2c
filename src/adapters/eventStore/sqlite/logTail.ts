import type { RecordedEvent } from '../../../ports/eventStore.ts';
import { matchesFilter, type EventFilter } from '../../../ports/eventFilter.ts';

/** Reads the events after `after` up to `upTo` (inclusive) of these types (null: any), at most `max`, by position. */
export type TailRows = (after: number, upTo: number, types: readonly string[] | null, max: number) => RecordedEvent[];

/**
 * The newest part of the log, held in memory for the persistent subscription groups: each route's
 * group (and priority lane) used to run its own filtered query over every new position (about 6.5
 * scans of each event in the benchmark's mix, 80 % of them finding nothing, each looking into the
 * JSON of every request). The tail reads each new row once, of the types some group takes, and
 * every group filters it in memory with the port's own filter. It holds the newest rows only: a
 * group whose cursor lies before them (a backlog, a slow provider) or past them reads SQL as
 * before, and joins the tail once its reads bring it there.
 */
export class LogTail {
  /** Events of `types` with start < position <= end, ascending. */
  private events: RecordedEvent[] = [];
  private start = -1;
  private end = -1;
  private types: readonly string[] | null = null;

  private readonly limit: number;
  private readonly extendMax: number;

  constructor(
    private readonly rows: TailRows,
    options: {
      /** Events held before the oldest are dropped (down to this many); a group behind them reads SQL. */
      limit?: number;
      /**
       * Rows one extension reads at most; also how far (in positions) what is held may fall behind
       * the head before the tail starts again from the head.
       */
      extendMax?: number;
    } = {},
  ) {
    this.limit = options.limit ?? 4_096;
    this.extendMax = options.extendMax ?? 2_048;
  }

  /** The groups' filters changed: hold the union of their types (any type if one takes every type). */
  follow(filters: readonly EventFilter[]): void {
    const types = new Set<string>();
    for (const filter of filters) {
      const wanted = filter.eventTypes ?? [];
      if (wanted.length === 0) {
        this.reset(null);
        return;
      }
      for (const type of wanted) types.add(type);
    }
    this.reset([...types].sort());
  }

  private reset(types: readonly string[] | null): void {
    this.types = types;
    this.events = [];
    this.start = -1;
    this.end = -1;
  }

  /**
   * Up to `max` events after `from` that pass `filter`, as the SQL read would return them, and how
   * far the read looked; null when the tail cannot answer (the caller reads SQL).
   */
  read(from: number, max: number, filter: EventFilter, head: number): { events: RecordedEvent[]; scannedTo: number } | null {
    if (!this.covers(filter)) return null;
    if (this.start >= 0 && from < this.start) return null;
    if (this.start < 0 || head - this.end > this.extendMax) {
      // Nothing held yet, or what is held fell far behind the head (every reader was elsewhere):
      // hold the newest rows only. The tail serves the readers near the head, whichever read first.
      this.events = [];
      this.start = Math.max(0, head - this.extendMax);
      this.end = this.start;
      if (from < this.start) return null;
    }
    if (this.end < head) this.extend(head);
    // Dropped by the extension's trim, or ahead of what one extension reads: SQL, so no reader
    // ever waits for the tail to reach it.
    if (from < this.start || from > this.end) return null;
    const events: RecordedEvent[] = [];
    let i = this.firstAfter(from);
    for (; i < this.events.length && (max < 0 || events.length < max); i++) {
      const event = this.events[i]!;
      if (matchesFilter(filter, event)) events.push(event);
    }
    const full = max >= 0 && events.length >= max;
    return { events, scannedTo: full ? events.at(-1)!.position : this.end };
  }

  private covers(filter: EventFilter): boolean {
    if (this.types === null) return true;
    const wanted = filter.eventTypes ?? [];
    return wanted.length > 0 && wanted.every((type) => this.types!.includes(type));
  }

  private extend(head: number): void {
    const fresh = this.rows(this.end, head, this.types, this.extendMax);
    for (const event of fresh) this.events.push(event);
    this.end = fresh.length >= this.extendMax ? fresh.at(-1)!.position : head;
    if (this.events.length > this.limit * 2) {
      const drop = this.events.length - this.limit;
      this.start = this.events[drop - 1]!.position;
      this.events = this.events.slice(drop);
    }
  }

  /** Index of the first held event with a position greater than `from`. */
  private firstAfter(from: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.position <= from) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
