import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { countSql } from '../../src/adapters/readModels/sqlite/sql.ts';
import { readModelStoreContract } from '../contracts/readModelStore.contract.ts';
import type { FindQuery } from '../../src/ports/readModelStore.ts';
import type { Logger } from '../../src/ports/logger.ts';

readModelStoreContract('embedded SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
  return {
    open: async () => new SqliteReadModelStore(join(dir, 'read-models.db')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

readModelStoreContract('embedded SQLite, commits written on a commit thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
  return {
    open: async () => new SqliteReadModelStore(join(dir, 'read-models.db'), undefined, { commitThread: true, inlineCommitDocs: 0 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describe('embedded SQLite read models: the commit thread', () => {
  it('writes commits in the order given, each visible to other connections once it resolves, and fails one alone though the commits queued with it are written in one transaction', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
    const file = join(dir, 'read-models.db');
    const store = new SqliteReadModelStore(file, undefined, { commitThread: true });
    try {
      await store.ensureCollection({ name: 'c', indexes: [{ fields: ['userId'], stable: true }] });
      // Larger than what is written on the caller's thread, and not awaited one by one: they queue
      // while the thread writes, and the failing one is in the middle of a group.
      const commit = (n: number) => store.commit(Array.from({ length: 100 }, (_, i) => ({ collection: 'c', id: `d${i}`, doc: { userId: `u${i % 7}`, n }, position: n * 100 + i + 1 })), { name: 'build', position: n + 1 });
      const commits = Array.from({ length: 10 }, (_, n) => commit(n));
      const failed = assert.rejects(
        store.commit(Array.from({ length: 100 }, (_, i) => ({ collection: 'missing', id: `d${i}`, doc: { i }, position: 1 }))),
        (error: Error & { code?: string }) => error.code === 'read_model_commit_failed' && /no such table: rm_missing/.test(error.message),
      );
      commits.push(...Array.from({ length: 10 }, (_, n) => commit(n + 10)));
      await Promise.all(commits);
      await failed;
      const look = new Database(file, { readonly: true });
      try {
        const rows = look.prepare('SELECT id, position, doc, f_userId FROM rm_c ORDER BY position').all() as { id: string; position: number; doc: string; f_userId: string }[];
        assert.equal(rows.length, 100);
        assert.ok(rows.every((r, i) => r.position === 1901 + i && (JSON.parse(r.doc) as { n: number }).n === 19 && r.f_userId === `u${i % 7}`), 'the last commit of each document won, with its stable column');
        assert.equal((look.prepare("SELECT position FROM rm_checkpoints WHERE name = 'build'").get() as { position: number }).position, 20);
      } finally {
        look.close();
      }
      // The thread goes on after a failed commit.
      await store.commit(Array.from({ length: 100 }, (_, i) => ({ collection: 'c', id: `e${i}`, doc: { userId: 'u' }, position: 5000 + i })));
      assert.equal(await store.count('c'), 200);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** A store on a fresh file and a read-only connection to look at what it wrote, both closed after `body`. */
async function withStore(body: (store: SqliteReadModelStore, look: Database.Database, file: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
  const file = join(dir, 'read-models.db');
  const store = new SqliteReadModelStore(file);
  const look = new Database(file, { readonly: true });
  try {
    await body(store, look, file);
  } finally {
    look.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('embedded SQLite read models: closing with commits on the commit thread', () => {
  it('waits for the commits in flight, then refuses later ones as a closed store does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-rm-'));
    const file = join(dir, 'read-models.db');
    const store = new SqliteReadModelStore(file, undefined, { commitThread: true, inlineCommitDocs: 0 });
    try {
      await store.ensureCollection({ name: 'c', indexes: [] });
      const inFlight = Array.from({ length: 5 }, (_, n) => store.commit(Array.from({ length: 200 }, (_, i) => ({ collection: 'c', id: `d${n}-${i}`, doc: { n }, position: n * 1000 + i + 1 }))));
      await store.close();
      await Promise.all(inFlight);
      const look = new Database(file, { readonly: true });
      try {
        assert.equal((look.prepare('SELECT COUNT(*) AS n FROM rm_c').get() as { n: number }).n, 1000);
      } finally {
        look.close();
      }
      await assert.rejects(store.commit([{ collection: 'c', id: 'late', doc: {}, position: 1 }]), /not open/, 'as a store without the thread: its connection is closed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('embedded SQLite read models: indexes', () => {
  it('keeps documents without the first field out of a sparse index, uses it for queries on that field, and drops indexes no longer listed', () => withStore(async (store, look) => {
    await store.ensureCollection({ name: 'stats', indexes: [{ fields: ['granularity', 'bucket'], sparse: true }, 'owner'] });
    await store.commit([
      { collection: 'stats', id: 'day', doc: { granularity: 'day', bucket: '2026-11-26' }, position: 1 },
      ...Array.from({ length: 50 }, (_, i) => ({ collection: 'stats', id: `n${i}`, doc: { owner: 'x' }, position: i + 2 })),
    ]);
    const indexes = () => look.prepare<[], { name: string; sql: string }>("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_stats' AND sql IS NOT NULL ORDER BY name").all();
    const sparse = indexes().find((i) => i.sql.includes('granularity'))!;
    assert.match(sparse.sql, /WHERE json_extract\(doc, '\$\.granularity'\) IS NOT NULL$/);
    assert.equal((look.prepare(`SELECT COUNT(*) AS n FROM rm_stats INDEXED BY ${sparse.name} WHERE json_extract(doc, '$.granularity') IS NOT NULL`).get() as { n: number }).n, 1, 'only the bucket is in the sparse index');
    const plan = look.prepare("EXPLAIN QUERY PLAN SELECT id FROM rm_stats WHERE doc IS NOT NULL AND json_extract(doc, '$.granularity') = ? AND json_extract(doc, '$.bucket') >= ?").all('day', '2026') as { detail: string }[];
    assert.ok(plan.some((p) => p.detail.includes(`USING INDEX ${sparse.name}`)), JSON.stringify(plan));
    await store.ensureCollection({ name: 'stats', indexes: [['granularity', 'bucket']] });
    const after = indexes();
    assert.equal(after.length, 1, 'the owner index and the sparse one are gone, the full one made');
    assert.doesNotMatch(after[0]!.sql, /WHERE/);
  }));

  it('counts on indexed fields from the index alone, without reading the documents', () => withStore(async (store, look) => {
    await store.ensureCollection({ name: 'log', indexes: ['status', ['appId', 'requestedAt']] });
    await store.commit([
      { collection: 'log', id: 'a', doc: { status: 'requested', appId: 'shop', requestedAt: '2026-11-26T01:00:00Z' }, position: 1 },
      { collection: 'log', id: 'b', doc: { status: 'sent', appId: 'shop', requestedAt: '2026-11-25T23:00:00Z' }, position: 2 },
      { collection: 'log', id: 'c', doc: null, position: 3 },
    ]);
    const queries: Pick<FindQuery, 'where' | 'range'>[] = [{ where: { status: 'requested' } }, { where: { appId: 'shop' }, range: { field: 'requestedAt', gte: '2026-11-26T00:00:00Z' } }];
    for (const query of queries) {
      const { sql, params } = countSql('log', query);
      const plan = look.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
      assert.ok(plan.some((p) => p.detail.includes('USING COVERING INDEX')), `${sql}: ${JSON.stringify(plan)}`);
      assert.equal(await store.count('log', query), 1);
    }
    assert.equal(await store.count('log'), 2, 'with no condition, tombstones are still left out');
  }));

  it('keeps the fields of a stable index in columns, filled from the documents already there, and a second connection queries through them', () => withStore(async (store, look, file) => {
    const indexes = () => look.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_log' AND sql IS NOT NULL").all().map((i) => i.sql);
    const columns = () => look.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('rm_log')").all().map((c) => c.name).filter((n) => n.startsWith('f_')).sort();
    await store.ensureCollection({ name: 'log', indexes: [['userId', 'requestedAt'], 'status'] });
    await store.commit(Array.from({ length: 30 }, (_, i) => ({
      collection: 'log', id: `n${String(i).padStart(2, '0')}`, doc: { userId: `u${i % 3}`, requestedAt: `2026-11-27T00:00:${String(i).padStart(2, '0')}Z`, status: 'sent' }, position: i + 1,
    })));
    // The API thread's connection, open before the projections thread's migrates the table.
    const reader = new SqliteReadModelStore(file);
    const query = { where: { userId: 'u1' }, orderBy: { field: 'requestedAt', direction: 'desc' as const }, limit: 5 };
    try {
      const before = await reader.find('log', query);
      assert.equal(before.length, 5);
      // The projections thread's connection migrates, and says so: it takes seconds on a big collection.
      const lines: { obj: object; msg?: string }[] = [];
      const logger: Logger = { debug: () => undefined, info: (obj, msg) => lines.push({ obj, msg }), warn: () => undefined, error: () => undefined, child: () => logger };
      const migrator = new SqliteReadModelStore(file, logger);
      await migrator.ensureCollection({ name: 'log', indexes: [{ fields: ['userId', 'requestedAt'], stable: true }, 'status'] });
      await migrator.close();
      assert.deepEqual(lines.map((l) => l.msg), ['read models: filling columns for the fields of stable indexes, one pass over the collection (about 5 s per million documents, then its indexes are built)', 'read models: columns filled']);
      assert.deepEqual({ ...lines[0]!.obj }, { collection: 'log', fields: ['userId', 'requestedAt'], documents: 30 });
      assert.deepEqual(columns(), ['f_requestedAt', 'f_userId']);
      assert.ok(indexes().some((sql) => sql.endsWith('(f_userId, f_requestedAt)')), JSON.stringify(indexes()));
      assert.ok(!indexes().some((sql) => sql.includes("'$.userId'")), 'the index on the document is gone');
      const plan = look.prepare("EXPLAIN QUERY PLAN SELECT id FROM rm_log WHERE f_userId = ? ORDER BY f_requestedAt DESC, id").all('u1') as { detail: string }[];
      assert.ok(plan.some((p) => p.detail.includes('USING INDEX rm_log__userId_requestedAt')), JSON.stringify(plan));
      assert.deepEqual(await reader.find('log', query), before);
      // The reader goes through the column, not the document: a column set apart from its document shows it.
      const raw = new Database(file);
      raw.prepare("UPDATE rm_log SET f_userId = 'elsewhere' WHERE id = 'n01'").run();
      raw.close();
      assert.deepEqual((await reader.find('log', { where: { userId: 'elsewhere' } })).map((d) => d.id), ['n01']);
      assert.equal(await reader.count('log', { where: { userId: 'elsewhere' } }), 1);
      // Stable no more: the columns go and the index on the document comes back.
      await store.ensureCollection({ name: 'log', indexes: [['userId', 'requestedAt'], 'status'] });
      assert.deepEqual(columns(), []);
      assert.ok(indexes().some((sql) => sql.includes("'$.userId'")));
      assert.deepEqual(await reader.find('log', query), before);
    } finally {
      await reader.close();
    }
  }));

  it('with deferIndexes makes the stable columns but no index, and the documents fill the columns as they go in', () => withStore(async (store, look) => {
    const spec = { name: 'build', indexes: [{ fields: ['userId', 'requestedAt'], stable: true }, 'status'] };
    await store.ensureCollection(spec, { deferIndexes: true });
    const indexCount = () => (look.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rm_build' AND sql IS NOT NULL").get() as { n: number }).n;
    assert.equal(indexCount(), 0);
    await store.commit([
      { collection: 'build', id: 'a', doc: { userId: 'u1', requestedAt: 't1', status: 'requested' }, position: 1 },
      { collection: 'build', id: 'b', doc: { status: 'requested' }, position: 2 },
    ]);
    await store.commit([{ collection: 'build', id: 'a', doc: { userId: 'u1', requestedAt: 't1', status: 'sent' }, position: 3 }]);
    assert.deepEqual(look.prepare('SELECT id, f_userId, f_requestedAt FROM rm_build ORDER BY id').all(), [
      { id: 'a', f_userId: 'u1', f_requestedAt: 't1' },
      { id: 'b', f_userId: null, f_requestedAt: null },
    ]);
    await store.ensureCollection(spec);
    assert.equal(indexCount(), 2);
    assert.deepEqual((await store.find('build', { where: { userId: 'u1' } })).map((d) => d.doc.status), ['sent']);
  }));
});
