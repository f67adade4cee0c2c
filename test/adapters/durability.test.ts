import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableMarks, WalSync } from '../../src/adapters/eventStore/sqlite/durability.ts';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { EventStoreUnavailableError } from '../../src/ports/eventStore.ts';

function tempWal(): { file: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'herald-durability-'));
  const file = join(dir, 'events.db-wal');
  writeFileSync(file, 'frames');
  return { file, done: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('WalSync and DurableMarks', () => {
  it('holds readers below a commit until its fdatasync returns, then lets them through', async () => {
    const wal = tempWal();
    try {
      const marks = new DurableMarks();
      const sync = new WalSync(wal.file, marks);
      sync.writing(11);
      sync.writing(12);
      assert.equal(marks.cap(12), 10, 'committed but not synced: readers stop before it');
      const settled = new Promise<Error | undefined>((resolve) => sync.committed(resolve));
      assert.equal(marks.cap(12), 10, 'the sync has not returned yet');
      assert.equal(await settled, undefined);
      assert.equal(marks.cap(12), 12, 'synced: readers may pass');
      await sync.close();
    } finally {
      wal.done();
    }
  });

  it('a commit made while a sync runs waits for the next one, and stays hidden until then', async () => {
    const wal = tempWal();
    try {
      const marks = new DurableMarks();
      const sync = new WalSync(wal.file, marks);
      const order: string[] = [];
      sync.writing(1);
      const first = new Promise<void>((resolve) => sync.committed(() => (order.push('first'), resolve())));
      sync.writing(2); // committed while the first sync is on the thread pool
      const second = new Promise<void>((resolve) =>
        sync.committed(() => {
          order.push('second');
          resolve();
        }),
      );
      assert.equal(marks.cap(2), 0);
      await first;
      assert.equal(marks.cap(2), 1, 'the first sync covers position 1 only');
      await second;
      assert.equal(marks.cap(2), 2);
      assert.deepEqual(order, ['first', 'second']);
      await sync.close();
    } finally {
      wal.done();
    }
  });

  it('two instances on one buffer (two threads) each hold readers back for their own commits', async () => {
    const wal = tempWal();
    try {
      const api = new DurableMarks();
      const background = new DurableMarks(api.buffer);
      const a = new WalSync(wal.file, api);
      const b = new WalSync(wal.file, background);
      a.writing(5);
      b.writing(6);
      assert.equal(background.cap(6), 4, "the other thread's unsynced commit holds this thread's readers too");
      await new Promise((resolve) => a.committed(resolve));
      assert.equal(background.cap(6), 5);
      await new Promise((resolve) => b.committed(resolve));
      assert.equal(api.cap(6), 6);
      await Promise.all([a.close(), b.close()]);
    } finally {
      wal.done();
    }
  });

  it('fails the commit with what happened when the WAL cannot be synced, and keeps readers back', async () => {
    const marks = new DurableMarks();
    const sync = new WalSync('/nonexistent/events.db-wal', marks);
    sync.writing(3);
    const error = await new Promise<Error | undefined>((resolve) => sync.committed(resolve));
    assert.ok(error instanceof EventStoreUnavailableError, 'the API answers it with 503 and Retry-After');
    assert.match(error.message, /could not be made durable.*ENOENT.*check the disk, then retry/);
    assert.equal(marks.cap(3), 2);
  });
});

describe('SqliteEventStore with the WAL synced off the event loop', () => {
  it('resolves an append only after its sync, and a subscriber sees it then', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-durability-'));
    const store = new SqliteEventStore(join(dir, 'events.db'));
    try {
      const sub = store.subscribeToAll();
      const seen = sub.nextBatch(10);
      const appended = await store.append('n-1', [{ type: 'NotificationRequested', data: { n: 1 } }], 'no_stream');
      const events = await seen;
      assert.deepEqual(events.map((e) => e.position), [appended.position]);
      await sub.close();
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
