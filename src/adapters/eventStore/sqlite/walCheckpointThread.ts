/**
 * Entry of the WAL checkpoint thread (walCheckpointer.ts): on a connection of its own, copies the
 * WAL's frames into events.db once `passPages` of them wait (or after a second), so that no
 * writer's COMMIT has to.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import Database from 'better-sqlite3';
import type { CheckpointThreadData, FromCheckpointThread, ToCheckpointThread } from './walCheckpointer.ts';
import { WriteLock } from './writeLock.ts';

const port = parentPort!;
const { file, intervalMs, passPages, restartPages, writeLock, ticks } = workerData as CheckpointThreadData;
/** Bumped after each tick: a pass stuck in I/O stops it, which the main thread reports (walCheckpointer.ts). */
const progress = new Int32Array(ticks);
/** Frames that wait less than `passPages` are copied after this long all the same. */
const IDLE_PASS_MS = 1000;
const lock = new WriteLock(writeLock);
const post = (message: FromCheckpointThread) => port.postMessage(message);
const db = new Database(file, { fileMustExist: true });
// PASSIVE never waits for a lock: another checkpoint running (a writer past its bound) is a skip.
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
let failing = false;
let lastPass = 0;

const header = Buffer.alloc(100);
let shm: number | undefined;
/**
 * The WAL's frames and how many of them are copied, from the wal-index header in events.db-shm
 * (https://www.sqlite.org/walformat.html: mxFrame at byte 16, nBackfill at 96, in the machine's
 * byte order): a read of 100 bytes, where asking SQLite would be a checkpoint, fsyncs included.
 */
function waiting(): number {
  shm ??= openSync(`${file}-shm`, 'r');
  readSync(shm, header, 0, header.length, 0);
  const u32 = (at: number) => (endianness() === 'LE' ? header.readUInt32LE(at) : header.readUInt32BE(at));
  return u32(16) - u32(96);
}

function tick(): void {
  try {
    const frames = waiting();
    if (frames <= 0 || (frames < passPages && Date.now() - lastPass < IDLE_PASS_MS)) return;
    lastPass = Date.now();
    checkpoint();
  } finally {
    Atomics.add(progress, 0, 1);
  }
}

/** Frames in the WAL when the pass began; 0 once a writer has restarted it. */
const pass = () => (db.pragma('wal_checkpoint(PASSIVE)') as { log: number }[])[0]?.log ?? 0;

/**
 * PASSIVE copies what the readers' snapshots allow, without waiting for or blocking a reader or
 * a writer. But a writer restarts the WAL from its start only when its transaction begins with
 * every frame copied, which under a steady load of commits never happens: one commits during
 * each pass. So once the WAL holds `restartPages`, a second pass copies the few frames committed
 * during the first while holding the writers' lock, and the next commit restarts the WAL.
 */
function checkpoint(): void {
  try {
    if (pass() >= restartPages) lock.hold(pass);
    if (failing) post({ kind: 'recovered' });
    failing = false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY') return;
    if (!failing) post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
    failing = true;
  }
}

// Reads what the connection opened (events.db-shm among it) before the first tick.
db.pragma('wal_checkpoint(PASSIVE)');
Atomics.add(progress, 0, 1);
const timer = setInterval(tick, intervalMs);

port.on('message', (message: ToCheckpointThread) => {
  if (message.kind !== 'stop') return;
  clearInterval(timer);
  // The last connection to close checkpoints the whole WAL and deletes it, as the stores did.
  db.close();
  port.close();
});
