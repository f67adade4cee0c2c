import type { NackAction, PersistentSubscriptionSettings, RecordedEvent } from '../../../ports/eventStore.ts';
import type { EventFilter } from '../../../ports/eventFilter.ts';
import { Signal } from './signal.ts';

export interface GroupSettings {
  filter: EventFilter;
  maxRetryCount: number;
  messageTimeoutMs: number;
  maxInFlight: number;
}

export function withDefaults(s: PersistentSubscriptionSettings): GroupSettings {
  return {
    filter: s.filter ?? {},
    maxRetryCount: s.maxRetryCount ?? 10,
    messageTimeoutMs: s.messageTimeoutMs ?? 30_000,
    maxInFlight: s.maxInFlight ?? 64,
  };
}

export interface Entry {
  event: RecordedEvent;
  retryCount: number;
  /** Set while a consumer holds it: who, and when it times out. */
  holder?: number;
  deadline: number;
  /** Re-delivered from the parked list; its position lies behind the checkpoint. */
  replayed: boolean;
}

export interface GroupIo {
  readPage(from: number, max: number, filter: EventFilter): { events: RecordedEvent[]; scannedTo: number };
  saveCheckpoint(position: number): void;
  /** True once the parked row is written (retrying a write the disk refused); false if the store closed first. */
  park(entry: Entry, reason: string): Promise<boolean>;
  unpark(position: number): void;
}

/**
 * One persistent subscription group in memory: a read cursor over $all, the events handed out
 * and not yet settled (insertion-ordered by position, so the first key bounds the checkpoint),
 * retries, timeouts and parking. Consumers pull; whoever asks first gets the next event.
 */
export class PersistentGroup {
  readonly changed = new Signal();
  private readonly outstanding = new Map<number, Entry>();
  private readonly replaying = new Map<number, Entry>();
  private ready: Entry[] = [];
  private inFlight = 0;
  private cursor: number;

  constructor(
    readonly name: string,
    public settings: GroupSettings,
    public checkpoint: number,
    private readonly io: GroupIo,
  ) {
    this.cursor = checkpoint;
  }

  take(consumer: number, max: number, now: number): Entry[] {
    const taken: Entry[] = [];
    while (taken.length < max && this.inFlight < this.settings.maxInFlight) {
      if (this.ready.length === 0) this.fetch();
      const entry = this.ready.shift();
      if (!entry) break;
      entry.holder = consumer;
      entry.deadline = now + this.settings.messageTimeoutMs;
      this.inFlight += 1;
      taken.push(entry);
    }
    return taken;
  }

  private fetch(): void {
    const room = this.settings.maxInFlight * 2 - this.outstanding.size;
    if (room <= 0) return;
    const { events, scannedTo } = this.io.readPage(this.cursor, room, this.settings.filter);
    for (const event of events) {
      const entry: Entry = { event, retryCount: 0, deadline: 0, replayed: false };
      this.outstanding.set(event.position, entry);
      this.ready.push(entry);
    }
    this.cursor = Math.max(this.cursor, scannedTo);
    this.advance();
  }

  /**
   * Settles the event at `position` if `consumer` holds it; false (nothing settled) if it does not:
   * it settled the event already, never took it, or took it, timed out, and the group has handed it
   * out again (perhaps to another consumer, whose hold a late answer must not end: a nack would
   * hand the event to a third while the second still works on it). The port's EventNotHeldError.
   */
  settle(consumer: number, position: number, action: 'ack' | NackAction, reason: string): boolean {
    // The held one: a parked event replayed before its park's write settled is in both maps, the
    // parked entry no longer held (an ack found there would be dropped, and its row left parked).
    const entry = [this.outstanding.get(position), this.replaying.get(position)].find((e) => e?.holder === consumer);
    if (!entry) return false;
    this.release(entry);
    if (action === 'retry') this.retry(entry, reason);
    // Handed back unworked: next in line again, its retry count as it was.
    else if (action === 'release') this.ready.unshift(entry);
    else if (action === 'park') this.finish(entry, reason);
    else this.finish(entry, undefined);
    return true;
  }

  /** Consumer gone or silent too long: its events go back to the front of the queue. */
  expire(now: number, consumer?: number): void {
    for (const entry of [...this.outstanding.values(), ...this.replaying.values()]) {
      if (entry.holder === undefined) continue;
      if (consumer !== undefined ? entry.holder === consumer : entry.deadline <= now) {
        this.release(entry);
        this.retry(entry, consumer !== undefined ? 'consumer disconnected' : 'message timeout');
      }
    }
  }

  replay(entries: Entry[]): void {
    for (const entry of entries) {
      if (this.replaying.has(entry.event.position)) continue;
      this.replaying.set(entry.event.position, entry);
      this.ready.push(entry);
    }
    this.changed.notify();
  }

  counts(): { inFlight: number } {
    return { inFlight: this.inFlight };
  }

  private release(entry: Entry): void {
    entry.holder = undefined;
    this.inFlight -= 1;
    this.changed.notify();
  }

  private retry(entry: Entry, reason: string): void {
    entry.retryCount += 1;
    if (entry.retryCount > this.settings.maxRetryCount) {
      this.finish(entry, `max retry count exceeded: ${reason}`);
      return;
    }
    this.ready.unshift(entry);
  }

  /**
   * Settles an entry for good; a reason means it is parked. A parked entry holds the checkpoint
   * back until its row is written: had the write failed (a full disk) after the checkpoint moved
   * past it, the event would be neither delivered nor listed as parked.
   */
  private finish(entry: Entry, parkReason: string | undefined): void {
    if (parkReason !== undefined) {
      void this.io.park(entry, parkReason).then((written) => written && this.forget(entry));
      return;
    }
    if (entry.replayed) this.io.unpark(entry.event.position);
    this.forget(entry);
  }

  private forget(entry: Entry): void {
    if (entry.replayed) this.replaying.delete(entry.event.position);
    else this.outstanding.delete(entry.event.position);
    this.advance();
  }

  private advance(): void {
    const first = this.outstanding.keys().next();
    const checkpoint = first.done ? this.cursor : first.value - 1;
    if (checkpoint > this.checkpoint) {
      this.checkpoint = checkpoint;
      this.io.saveCheckpoint(checkpoint);
    }
  }
}
