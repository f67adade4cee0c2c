import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { readModelStoreContract } from '../contracts/readModelStore.contract.ts';

readModelStoreContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
  return {
    open: async () => new SqliteReadModelStore(join(dir, 'read-models.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});
