import { EventStoreUnavailableError } from '../../../ports/eventStore.ts';
import { diskFailure } from '../../sqliteDisk.ts';

/**
 * A write that SQLite refused because the file cannot grow or be written now (a full disk, a file
 * size limit, an I/O error) becomes the port's retryable error, which says what to do: nothing of
 * the transaction was written, the HTTP API answers 503 with Retry-After instead of a 500, and the
 * workers retry. Any other error (a bug, a constraint) is left as it is.
 */
export function unwritable(file: string, error: unknown): unknown {
  const why = diskFailure(file, error);
  return why === undefined ? error : new EventStoreUnavailableError(`${why}, then retry`, { cause: error });
}
