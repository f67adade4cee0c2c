import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';

/** Two SqliteEventStore instances on one file in a temp dir, as the API and a background thread run them. */
export async function linkedStores(prefix = 'herald-linked-') {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const api = new SqliteEventStore(join(dir, 'events.db'));
  const worker = new SqliteEventStore(join(dir, 'events.db'));
  return {
    api,
    worker,
    async close() {
      await api.close();
      await worker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
