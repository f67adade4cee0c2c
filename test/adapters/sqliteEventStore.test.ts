import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { WrongExpectedRevisionError } from '../../src/ports/eventStore.ts';
import { eventStoreContract } from '../contracts/eventStore.contract.ts';

eventStoreContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-es-'));
  return {
    open: async () => new SqliteEventStore(join(dir, 'events.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}, { streamsInOrder: true, uncountedRelease: true });

test('a data dir with the streams table of earlier builds: the table is dropped and revisions come from the log', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-es-'));
  const file = join(dir, 'events.db');
  try {
    // The layout before 2026-11-27: a stream's revision repeated in `streams`. A stale copy (0,
    // where the log holds revisions 0 and 1) must not be what an append is checked against.
    const old = new Database(file);
    old.exec(`
      CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, stream TEXT NOT NULL, revision INTEGER NOT NULL,
        type TEXT NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL, created INTEGER NOT NULL);
      CREATE UNIQUE INDEX events_stream_revision ON events (stream, revision);
      CREATE TABLE streams (name TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO events (id, stream, revision, type, data, metadata, created) VALUES
        ('e0', 'user-1', 0, 'UserProfileSet', '{}', '{}', 0), ('e1', 'user-1', 1, 'UserProfileSet', '{}', '{}', 0);
      INSERT INTO streams VALUES ('user-1', 0);
    `);
    old.close();
    const store = new SqliteEventStore(file);
    try {
      await assert.rejects(store.append('user-1', [{ type: 'UserProfileSet', data: {} }], 0), WrongExpectedRevisionError);
      const appended = await store.append('user-1', [{ type: 'UserProfileSet', data: {} }], 1);
      assert.equal(appended.nextExpectedRevision, 2);
      assert.deepEqual((await store.readStream('user-1')).map((e) => e.revision), [0, 1, 2]);
      await assert.rejects(store.append('user-2', [{ type: 'UserProfileSet', data: {} }], 0), WrongExpectedRevisionError);
      assert.equal((await store.append('user-2', [{ type: 'UserProfileSet', data: {} }], 'no_stream')).nextExpectedRevision, 0);
    } finally {
      await store.close();
    }
    const after = new Database(file, { readonly: true });
    assert.equal(after.prepare<[], { n: number }>("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'streams'").get()?.n, 0);
    after.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
