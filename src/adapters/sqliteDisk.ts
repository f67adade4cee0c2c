import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * What to tell an operator when SQLite refused a write because the file cannot grow or be written
 * now (SQLITE_FULL: a full disk or a file size limit; SQLITE_IOERR*: an I/O error), or undefined
 * for any other error (a bug, a constraint), which is left as it is. SQLite's own "database or disk
 * is full" names neither the file nor the disk, nor what to do.
 */
export function diskFailure(file: string, error: unknown): string | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  if (error.code !== 'SQLITE_FULL' && !error.code.startsWith('SQLITE_IOERR')) return undefined;
  return `${basename(file)}: nothing was written (${error.code}: ${error.message}); the disk holding ${dirname(file)} is full or failing: free space there (herald_data_dir_free_bytes in /metrics) or check the disk`;
}
