import { fdatasync, openSync, closeSync } from 'node:fs';
import { EventStoreUnavailableError } from '../../../ports/eventStore.ts';

const SLOTS = 4;

/**
 * Positions committed to events.db but not yet known to be on disk, one slot per store instance
 * writing the file in this process (the API thread's and the background threads'), shared by a
 * SharedArrayBuffer. Readers cap what they hand out below the lowest such position, so nothing
 * is delivered or projected before it is durable, whichever thread committed it.
 */
export class DurableMarks {
  private readonly slots: BigInt64Array;
  private readonly claims: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8 + 8 * SLOTS)) {
    this.claims = new Int32Array(buffer, 0, 1);
    this.slots = new BigInt64Array(buffer, 8, SLOTS);
  }

  /** A slot of its own for one writing instance. */
  claim(): number {
    const slot = Atomics.add(this.claims, 0, 1);
    if (slot >= SLOTS) throw new Error(`at most ${SLOTS} event store instances may write one file in a process`);
    return slot;
  }

  /** 0: nothing undurable in this slot. */
  set(slot: number, lowestUndurable: number): void {
    Atomics.store(this.slots, slot, BigInt(lowestUndurable));
  }

  /** The highest position a reader may hand out, given the committed head. */
  cap(head: number): number {
    let cap = head;
    for (let i = 0; i < SLOTS; i++) {
      const low = Number(Atomics.load(this.slots, i));
      if (low > 0 && low - 1 < cap) cap = low - 1;
    }
    return cap;
  }
}

type Settle = (error?: Error) => void;

/**
 * Group fsync off the event loop. events.db runs with synchronous=NORMAL, so a COMMIT writes the
 * WAL without waiting for the disk (≈0.03 ms instead of ≈0.18 ms, all of it with the write lock
 * held and the thread blocked); this class then fdatasyncs the WAL on libuv's thread pool and
 * settles the commit's appends only when that returns. One sync at a time: commits made while one
 * runs wait for the next, which covers them all. An fdatasync of the WAL makes every frame
 * written before it durable, whichever connection wrote it.
 */
export class WalSync {
  private fd: number | undefined;
  private syncing = false;
  private waiting: Settle[] = [];
  /** First position committed since the running sync started (0: none). */
  private lowSinceStart = 0;
  /** This instance's lowest undurable position as published in `marks` (0: none). */
  private mark = 0;
  private readonly slot: number;

  constructor(
    private readonly walFile: string,
    private readonly marks: DurableMarks,
  ) {
    this.slot = marks.claim();
  }

  /** Inside the write transaction, before COMMIT: readers must not pass `position` until synced. */
  writing(position: number): void {
    if (this.lowSinceStart === 0) this.lowSinceStart = position; // positions only grow
    if (this.mark === 0) this.setMark(position);
  }

  /** After COMMIT: `settle` runs once everything committed so far is on disk (or with the error). */
  committed(settle: Settle): void {
    this.waiting.push(settle);
    if (!this.syncing) this.start();
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.syncing = true;
    this.lowSinceStart = 0; // positions committed from here on are not covered by this sync
    let fd: number;
    try {
      fd = this.fd ??= openSync(this.walFile, 'r');
    } catch (error) {
      this.finish(batch, error as Error);
      return;
    }
    fdatasync(fd, (error) => this.finish(batch, error ?? undefined));
  }

  private finish(batch: Settle[], error: Error | undefined): void {
    this.syncing = false;
    // What was committed while this sync ran is still undurable. A failed sync keeps the mark:
    // readers wait until a later sync succeeds (it covers every earlier frame).
    if (!error) this.setMark(this.lowSinceStart);
    const failure = error && new EventStoreUnavailableError(`events.db: the commit could not be made durable (fdatasync of the WAL failed: ${error.message}); check the disk, then retry`, { cause: error });
    for (const settle of batch) settle(failure);
    if (this.waiting.length > 0) this.start();
  }

  private setMark(position: number): void {
    this.mark = position;
    this.marks.set(this.slot, position);
  }

  /** Waits for the syncs asked for so far, then lets go of the WAL. */
  async close(): Promise<void> {
    if (this.syncing || this.waiting.length > 0) await new Promise<unknown>((resolve) => this.committed(resolve));
    this.setMark(0);
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
