import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { TurnBatch } from '../../src/adapters/eventStore/sqlite/turnBatch.ts';

class Refused extends Error {}

describe('a turn’s writes in one transaction', () => {
  it('fails alone a job that refused before writing, and rolls back the whole turn for any other error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-turn-'));
    const db = new Database(join(dir, 'x.db'));
    try {
      db.exec('CREATE TABLE t (v INTEGER)');
      const batch = new TurnBatch(db, { begin: 'immediate', failsAlone: (e) => e instanceof Refused });
      const insert = (v: number) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v);
      const rows = () => db.prepare('SELECT v FROM t ORDER BY v').all().map((r) => (r as { v: number }).v);

      const first = await Promise.allSettled([batch.enqueue(insert(1)), batch.enqueue(() => { throw new Refused(); }), batch.enqueue(insert(2))]);
      assert.deepEqual(first.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.deepEqual(rows(), [1, 2]);

      // A job that wrote and then failed another way: nothing of the turn is kept, and every job hears of it.
      const second = await Promise.allSettled([
        batch.enqueue(insert(3)),
        batch.enqueue(() => {
          insert(4)();
          throw new Error('disk trouble');
        }),
        batch.enqueue(insert(5)),
      ]);
      assert.deepEqual(second.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
      assert.deepEqual(rows(), [1, 2]);
    } finally {
      db.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
