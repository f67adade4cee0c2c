import { basename, dirname } from 'node:path';
import Database from 'better-sqlite3';
import { EventStoreUnavailableError } from '../../../ports/eventStore.ts';

/**
 * A write that SQLite refused because the file cannot grow or be written now (a full disk, a file
 * size limit, an I/O error) becomes the port's retryable error, which says what to do: nothing of
 * the transaction was written, the HTTP API answers 503 with Retry-After instead of a 500, and the
 * workers retry. Any other error (a bug, a constraint) is left as it is.
 */
export function unwritable(file: string, error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error;
  if (error.code !== 'SQLITE_FULL' && !error.code.startsWith('SQLITE_IOERR')) return error;
  return new EventStoreUnavailableError(
    `${basename(file)}: nothing was written (${error.code}: ${error.message}); the disk holding ${dirname(file)} is full or failing: free space there (herald_data_dir_free_bytes in /metrics) or check the disk, then retry`,
    { cause: error },
  );
}
