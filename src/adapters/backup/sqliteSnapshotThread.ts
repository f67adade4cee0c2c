/** The worker of sqliteSnapshot.ts: one `VACUUM INTO`, then a check of the copy. */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { source, target } = workerData as { source: string; target: string };
try {
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    db.prepare('VACUUM INTO ?').run(target);
  } finally {
    db.close();
  }
  const copy = new Database(target, { readonly: true, fileMustExist: true });
  const check = copy.pragma('quick_check', { simple: true });
  copy.close();
  parentPort!.postMessage(check === 'ok' ? { ok: true } : { ok: false, message: `the copy of ${source} failed SQLite's quick_check: ${String(check)}` });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: error instanceof Error ? error.message : String(error) });
}
