import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../configError.ts';

/** The file whose lock says that a Herald process serves this data dir. */
const LOCK_FILE = 'herald.lock';

export interface DataDirLock {
  release(): void;
}

/**
 * One Herald process per embedded data dir. The embedded event store keeps its persistent
 * subscription groups (which worker has which event) in the process, so a second process on the
 * same files would deliver every notification a second time. The lock is SQLite's exclusive lock
 * on a file of its own: the operating system drops it when the process ends, however it ends, so
 * a crash leaves no stale lock behind. `npm run replay` does not take it: it runs beside the service.
 */
export function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') {
      throw new ConfigError(`another Herald process is running on ${dir} (it holds ${file}): the embedded stores serve one process. Stop that one, or set HERALD_DATA_DIR to another directory`);
    }
    throw error;
  }
  return {
    release: () => {
      if (db.open) db.close();
    },
  };
}
