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
  const file = join(dir, LOCK_FILE);
  let db: Database.Database;
  try {
    mkdirSync(dir, { recursive: true });
    db = new Database(file, { timeout: 0 });
  } catch (error) {
    throw unusableDir(dir, error);
  }
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

/** Why the data dir cannot hold Herald's files, saying what to do, or the error itself when it is not about the dir. */
function unusableDir(dir: string, error: unknown): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EEXIST' || code === 'ENOTDIR') return new ConfigError(`HERALD_DATA_DIR ${dir} is not a directory (a file is in the way): set HERALD_DATA_DIR to a directory, which is created if missing`);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'SQLITE_CANTOPEN') return new ConfigError(`cannot write the data dir ${dir} (${code}): run Herald as a user that may write there, or set HERALD_DATA_DIR to a directory it can write`);
  return error instanceof Error ? error : new Error(String(error));
}
