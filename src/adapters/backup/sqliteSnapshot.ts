/**
 * A consistent copy of a live SQLite file. `VACUUM INTO` reads one snapshot of the database (the
 * service goes on writing meanwhile: WAL mode lets a reader keep its snapshot) and writes it out
 * as a compact database of its own. It runs on a worker thread, so that the caller can report
 * progress from the copy's size while it grows.
 */
import { once } from 'node:events';
import { stat } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { tsWorker } from '../../tsWorker.ts';

/** About the size the copy will have: the source's pages in use (free pages are left out). */
export function expectedSnapshotBytes(source: string): number {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    const page = (name: string) => db.pragma(name, { simple: true }) as number;
    return (page('page_count') - page('freelist_count')) * page('page_size');
  } finally {
    db.close();
  }
}

type Outcome = { ok: true } | { ok: false; message: string };

/** Copies `source` to `target` (a file that must not exist yet), checked with `quick_check`. */
export async function snapshotSqlite(source: string, target: string, onProgress: (bytes: number) => void): Promise<void> {
  const worker = tsWorker(new URL('./sqliteSnapshotThread.ts', import.meta.url), { workerData: { source, target } });
  const timer = setInterval(() => void stat(target).then((s) => onProgress(s.size), () => undefined), 200);
  try {
    const [outcome] = (await once(worker, 'message')) as [Outcome];
    if (!outcome.ok) throw new Error(outcome.message);
    onProgress((await stat(target)).size);
  } finally {
    clearInterval(timer);
    await worker.terminate();
  }
}
