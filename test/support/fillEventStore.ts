/**
 * Appends 100 KB events to a fresh events.db until the store refuses one, then prints that error
 * as JSON and what a read of the log still returns. Run by test/adapters/diskFull.test.ts under a
 * file size limit (`ulimit -f`), which makes the disk "full" for this process alone.
 */
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';

const dir = process.argv[2]!;
const store = new SqliteEventStore(join(dir, 'events.db'));
const data = { text: 'x'.repeat(100_000) };
let appended = 0;
let refused: { name: string; code?: string; message: string } | undefined;
for (let i = 0; i < 1_000 && !refused; i++) {
  try {
    await store.append(`s-${i}`, [{ type: 'Filler', data }], 'no_stream');
    appended += 1;
  } catch (error) {
    const e = error as Error & { code?: string };
    refused = { name: e.name, ...(e.code ? { code: e.code } : {}), message: e.message };
  }
}
const readable = (await store.readAll()).length;
process.stdout.write(`${JSON.stringify({ appended, refused, readable })}\n`);
await store.close().catch(() => undefined);
