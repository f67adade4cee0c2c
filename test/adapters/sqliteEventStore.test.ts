import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { eventStoreContract } from '../contracts/eventStore.contract.ts';

eventStoreContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-es-'));
  return {
    open: async () => new SqliteEventStore(join(dir, 'events.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
