/**
 * Checkpoints events.db's WAL on a thread of its own. With SQLite's default every 1000th page a
 * COMMIT ran a checkpoint inside it (fsync the WAL, copy the pages into events.db, fsync that),
 * blocking the committing thread (the API's, for sends) and the write lock, ≈8–20 ms a time in
 * bench/commitBlocking.ts. Here the
 * writers open the file with `selfCheckpointPages` (WAL_FALLBACK_PAGES) and this thread copies the
 * WAL into events.db (walCheckpointThread.ts). Should it stall or die, the WAL still stops
 * growing at WAL_FALLBACK_PAGES, where a writer checkpoints in its commit as before.
 */
import type { Worker } from 'node:worker_threads';
import { tsWorker } from '../../../tsWorker.ts';
import type { Logger } from '../../../ports/logger.ts';
import type { WriteLock } from './writeLock.ts';

/**
 * 8 MB of 4 KB pages: how long the WAL grows before the thread makes the writers wait for one
 * short pass so the next restarts it (walCheckpointThread.ts). Frames already copied cost a reader
 * nothing (it reads them from events.db); 32 MB had the writers wait less often but longer, and the
 * WAL's fdatasyncs were slower (bench/commitBlocking.ts, 2026-11-29).
 */
export const WAL_RESTART_PAGES = 2048;
/** 64 MB: the WAL's bound when the thread does not keep up. */
export const WAL_FALLBACK_PAGES = 16_384;
/**
 * How long the thread may go without finishing a tick before it is reported stalled. A healthy
 * tick takes a read of 100 bytes, a pass a few fsyncs (tens of ms; a 64 MB WAL copied on a slow
 * disk, a second or two), and the pass that waits for the writers' lock at most its 5 s
 * (writeLock.ts): 30 s is well past all of them, and a thread stuck in I/O (a failing disk, a hung
 * network mount) still gets a word within half a minute, long before an operator would notice
 * the commits' own checkpoints.
 */
export const WAL_STALL_MS = 30_000;

export interface CheckpointThreadData {
  file: string;
  /** How often it looks at the WAL. */
  intervalMs: number;
  /**
   * A pass once this many frames wait (SQLite's own default), or after a second with fewer: under
   * load as many checkpoint fsyncs as before, at a trickle up to two a second.
   */
  passPages: number;
  restartPages: number;
  /** The writers' WriteLock (all of them must hold it): held for the pass that lets them restart the WAL. */
  writeLock: SharedArrayBuffer;
  /** One Int32 the thread bumps after each tick: its progress, read by the main thread without a message. */
  ticks: SharedArrayBuffer;
}
export type ToCheckpointThread = { kind: 'stop' };
export type FromCheckpointThread = { kind: 'failed'; message: string } | { kind: 'recovered' };

export class WalCheckpointer {
  private readonly worker: Worker;
  private closing: Promise<void> | undefined;
  private reported = false;
  private readonly exited: Promise<unknown>;
  private readonly watch: NodeJS.Timeout;
  private readonly progress: Int32Array;

  /** `file` must exist: start it once the event store has opened the file. */
  constructor(
    private readonly file: string,
    writeLock: WriteLock,
    private readonly logger?: Logger,
    { intervalMs = 50, passPages = 1000, restartPages = WAL_RESTART_PAGES, stallMs = WAL_STALL_MS } = {},
  ) {
    const ticks = new SharedArrayBuffer(4);
    this.progress = new Int32Array(ticks);
    const data: CheckpointThreadData = { file, intervalMs, passPages, restartPages, writeLock: writeLock.buffer, ticks };
    this.worker = tsWorker(new URL('./walCheckpointThread.ts', import.meta.url), { workerData: data });
    // It never holds the process open; close() waits for it.
    this.worker.unref();
    this.worker.on('message', (message: FromCheckpointThread) => {
      if (message.kind === 'failed') this.reportOnce(`WAL checkpoints of ${file} fail (${message.message}): check the disk (free space, permissions)`);
      if (message.kind === 'recovered') {
        this.reported = false;
        this.logger?.info({ file }, 'WAL checkpoints work again');
      }
    });
    this.worker.on('error', (error) => this.reportOnce(`the WAL checkpoint thread of ${file} failed (${error.message}): restart Herald to get it back`));
    // Not events.once: it rejects on the 'error' that comes before the exit of a thread that failed.
    this.exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.watch = watchProgress(new Int32Array(ticks), stallMs, (stalledMs) => {
      if (stalledMs === undefined) return this.logger?.info({ file }, 'WAL checkpoints make progress again');
      const bound = `${(WAL_FALLBACK_PAGES * 4096) / 2 ** 20} MB`;
      this.logger?.warn(
        { file, stalledMs },
        `WAL checkpoints of ${file} have made no progress for ${Math.round(stalledMs / 1000)} s: a checkpoint pass is stuck, most likely in I/O; check the disk under it (the kernel log for I/O errors, a hung network mount, iostat); meanwhile the event store's commits checkpoint the WAL themselves once it reaches ${bound}, a pause of the API each time`,
      );
    });
    this.worker.on('exit', (code) => {
      clearInterval(this.watch);
      if (!this.closing) this.reportOnce(`the WAL checkpoint thread of ${file} exited (code ${code}): restart Herald to get it back`);
    });
  }

  private reportOnce(what: string): void {
    if (this.reported) return;
    this.reported = true;
    const bound = `${(WAL_FALLBACK_PAGES * 4096) / 2 ** 20} MB`;
    this.logger?.error({ file: this.file }, `${what}; meanwhile the event store's commits checkpoint the WAL themselves once it reaches ${bound}, a pause of the API each time`);
  }

  /** Whether the thread has made its first pass (it takes a second or two to start). */
  get running(): boolean {
    return Atomics.load(this.progress, 0) > 0;
  }

  /** Ends the thread; close the stores on the file first, so that its close writes the final checkpoint. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      clearInterval(this.watch);
      this.worker.ref();
      this.worker.postMessage({ kind: 'stop' } satisfies ToCheckpointThread);
      await this.exited;
    })());
  }
}

/**
 * Looks at the thread's tick count three times per `stallMs`, on an unref'd timer (an atomic
 * read, no message): unchanged for `stallMs` means no tick finished for at least that long (at
 * most a third more). Tells `report` once when it stalls (how long since the last progress) and
 * once when it moves again (undefined). Until it has started (its first pass done) the thread gets
 * WAL_STALL_MS at least: starting it (tsx, a cold disk) is not a stall.
 */
function watchProgress(ticks: Int32Array, stallMs: number, report: (stalledMs: number | undefined) => void): NodeJS.Timeout {
  let seen = 0;
  let since = performance.now();
  let stalled = false;
  const timer = setInterval(() => {
    const now = performance.now();
    const count = Atomics.load(ticks, 0);
    if (count !== seen) {
      seen = count;
      since = now;
      if (stalled) report(undefined);
      stalled = false;
    } else if (!stalled && now - since >= (count === 0 ? Math.max(stallMs, WAL_STALL_MS) : stallMs)) {
      stalled = true;
      report(now - since);
    }
  }, stallMs / 3);
  timer.unref();
  return timer;
}
