/**
 * Commits 100 KB documents to a fresh read-model store until it refuses one, then prints that
 * error's message as JSON and how many documents a read still finds. argv: the directory, then
 * `inline` (written on this thread) or `thread` (on the store's commit thread). Run by
 * test/adapters/diskFull.test.ts under a file size limit (`ulimit -f`).
 */
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';

const [dir, mode] = [process.argv[2]!, process.argv[3]];
const store = new SqliteReadModelStore(join(dir, 'read-models.db'), undefined, mode === 'thread' ? { commitThread: true, inlineCommitDocs: 0 } : {});
await store.ensureCollection({ name: 'filler', indexes: [] });
const text = 'x'.repeat(100_000);
let committed = 0;
let refused: string | undefined;
for (let i = 0; i < 1_000 && refused === undefined; i++) {
  try {
    await store.commit([{ collection: 'filler', id: `d${i}`, doc: { text }, position: i + 1 }]);
    committed += 1;
  } catch (error) {
    refused = (error as Error).message;
  }
}
const readable = await store.count('filler', {});
process.stdout.write(`${JSON.stringify({ committed, refused, readable })}\n`);
await store.close().catch(() => undefined);
