import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';

const spec = { name: 'notifications', indexes: [['userId', 'requestedAt'], 'status', 'urgent'] as (string | string[])[] };

function tempFile(): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-rm-columns-'));
  return { file: join(dir, 'read-models.db'), done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('SQLite read models keep indexed fields in columns', () => {
  it('migrates a file from before the columns: fills them, drops the json_extract indexes, finds the same documents', async () => {
    const { file, done } = tempFile();
    try {
      // The layout earlier versions wrote: the document only, indexes over json_extract.
      const old = new Database(file);
      old.exec(`CREATE TABLE rm_notifications (id TEXT PRIMARY KEY, position INTEGER NOT NULL, doc TEXT);
        CREATE INDEX rm_notifications__userId_requestedAt ON rm_notifications (json_extract(doc, '$.userId'), json_extract(doc, '$.requestedAt'));
        CREATE INDEX rm_notifications__status ON rm_notifications (json_extract(doc, '$.status'));`);
      const insert = old.prepare('INSERT INTO rm_notifications (id, position, doc) VALUES (?, ?, ?)');
      insert.run('a', 1, JSON.stringify({ userId: 'u1', requestedAt: '2026-11-26T08:00:00Z', status: 'sent', urgent: true }));
      insert.run('b', 2, JSON.stringify({ userId: 'u1', requestedAt: '2026-11-26T09:00:00Z', status: 'failed', urgent: false }));
      insert.run('c', 3, JSON.stringify({ userId: 'u2', requestedAt: '2026-11-26T07:00:00Z', status: 'sent' }));
      old.close();

      const store = new SqliteReadModelStore(file);
      try {
        await store.ensureCollection(spec);
        const byUser = await store.find('notifications', { where: { userId: 'u1' }, orderBy: { field: 'requestedAt', direction: 'desc' } });
        assert.deepEqual(byUser.map((d) => d.id), ['b', 'a']);
        assert.equal(await store.count('notifications', { where: { status: 'sent' } }), 2);
        assert.deepEqual((await store.find('notifications', { where: { urgent: true } })).map((d) => d.id), ['a']);
      } finally {
        await store.close();
      }
      const check = new Database(file, { readonly: true });
      const indexes = check.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_notifications' AND sql IS NOT NULL").all().map((i) => i.sql);
      const plan = check.prepare<[], { detail: string }>("EXPLAIN QUERY PLAN SELECT id FROM rm_notifications WHERE doc IS NOT NULL AND f_userId = 'u1' ORDER BY f_requestedAt").all();
      check.close();
      assert.ok(indexes.every((sql) => !sql.includes('json_extract')), indexes.join('\n'));
      assert.equal(indexes.length, 3);
      assert.match(plan.map((p) => p.detail).join(' '), /USING INDEX rm_notifications__userId_requestedAt/);
    } finally {
      done();
    }
  });

  it('keeps the columns in step with every write, tombstones included', async () => {
    const { file, done } = tempFile();
    const store = new SqliteReadModelStore(file);
    try {
      await store.ensureCollection(spec);
      await store.commit([{ collection: 'notifications', id: 'a', position: 1, doc: { userId: 'u1', requestedAt: 't1', status: 'requested' } }]);
      await store.commit([{ collection: 'notifications', id: 'a', position: 2, doc: { userId: 'u9', requestedAt: 't1', status: 'sent' } }]);
      await store.commit([{ collection: 'notifications', id: 'a', position: 1, doc: { userId: 'stale', requestedAt: 't0', status: 'requested' } }]);
      assert.deepEqual((await store.find('notifications', { where: { userId: 'u9', status: 'sent' } })).map((d) => d.id), ['a']);
      assert.equal(await store.count('notifications', { where: { userId: 'stale' } }), 0, 'an older position changes neither the document nor its columns');
      await store.commit([{ collection: 'notifications', id: 'a', position: 3, doc: null }]);
      assert.equal(await store.count('notifications', { where: { userId: 'u9' } }), 0);
    } finally {
      await store.close();
      done();
    }
  });

  it('does not rewrite an index whose fields an update leaves as they were', async () => {
    // The same status-only updates on two collections, with and without a per-user index: the
    // per-user index must cost no WAL frames (it used to cost one per commit, on a random leaf).
    const framesFor = async (indexes: (string | string[])[]) => {
      const { file, done } = tempFile();
      const store = new SqliteReadModelStore(file);
      try {
        await store.ensureCollection({ name: 'notifications', indexes });
        const doc = (i: number, status: string) => ({ userId: `u${(i * 7919) % 500}`, requestedAt: `t${i}`, status });
        await store.commit(Array.from({ length: 20_000 }, (_, i) => ({ collection: 'notifications', id: `n${String(i).padStart(6, '0')}`, position: i + 1, doc: doc(i, 'requested') })));
        const side = new Database(file);
        side.pragma('wal_checkpoint(TRUNCATE)');
        side.close();
        for (let i = 0; i < 200; i++) {
          const n = 5_000 + i * 37;
          await store.commit([{ collection: 'notifications', id: `n${String(n).padStart(6, '0')}`, position: 30_000 + i, doc: doc(n, 'sent') }]);
        }
        return statSync(`${file}-wal`).size / (4096 + 24);
      } finally {
        await store.close();
        done();
      }
    };
    const statusOnly = await framesFor(['status']);
    const withUser = await framesFor([['userId', 'requestedAt'], 'status']);
    assert.ok(withUser < statusOnly + 20, `${Math.round(withUser)} WAL frames with the per-user index against ${Math.round(statusOnly)} without, for 200 status-only updates`);
  });
});
