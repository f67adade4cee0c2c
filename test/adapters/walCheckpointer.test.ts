import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { WalCheckpointer } from '../../src/adapters/eventStore/sqlite/walCheckpointer.ts';
import { WriteLock } from '../../src/adapters/eventStore/sqlite/writeLock.ts';
import type { Logger } from '../../src/ports/logger.ts';

/** A WAL frame: a 4 KB page and its 24-byte header. */
const FRAME = 4096 + 24;
const size = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

function tempStore(selfCheckpointPages: number) {
  const dir = mkdtempSync(join(tmpdir(), 'herald-wal-'));
  const file = join(dir, 'events.db');
  const lock = new WriteLock();
  const store = new SqliteEventStore(file, { writeLock: lock, selfCheckpointPages });
  return { dir, file, lock, store, done: () => rmSync(dir, { recursive: true, force: true }) };
}

let next = 0;
/** 50 appends in one commit, each event about a page: ≈ 60 WAL frames. */
async function commit(store: SqliteEventStore): Promise<void> {
  await Promise.all(Array.from({ length: 50 }, () => store.append(`n-${next++}`, [{ type: 'NotificationRequested', data: { body: 'x'.repeat(3000) } }], 'no_stream')));
}

/** Commits until `frames` WAL frames have been written in all (counted by the WAL's growth, and per commit after a restart). */
async function write(file: string, store: SqliteEventStore, frames: number, pauseMs = 0): Promise<{ walPeak: number }> {
  let written = 0;
  let walPeak = 0;
  while (written < frames * FRAME) {
    const before = size(`${file}-wal`);
    await commit(store);
    const after = size(`${file}-wal`);
    written += after > before ? after - before : 60 * FRAME;
    walPeak = Math.max(walPeak, after);
    if (pauseMs > 0) await sleep(pauseMs);
  }
  return { walPeak };
}

function capture(): { logger: Logger; errors: string[]; warnings: string[]; infos: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger: Logger = { debug: () => {}, info: (_obj, msg) => infos.push(msg ?? ''), warn: (_obj, msg) => warnings.push(msg ?? ''), error: (_obj, msg) => errors.push(msg ?? ''), child: () => logger };
  return { logger, errors, warnings, infos };
}

async function until(ms: number, done: () => boolean): Promise<boolean> {
  for (const end = Date.now() + ms; !done() && Date.now() < end;) await sleep(20);
  return done();
}

describe('WalCheckpointer', () => {
  it('copies the WAL into events.db on its own thread and lets the writers restart it, so it stays short', async () => {
    const t = tempStore(100_000);
    const checkpointer = new WalCheckpointer(t.file, t.lock, undefined, { intervalMs: 10, restartPages: 300 });
    try {
      // A loaded machine takes seconds to start the thread; writes before it would be on their own.
      assert.ok(await until(30_000, () => checkpointer.running), 'the thread started');
      const first = next;
      const { walPeak } = await write(t.file, t.store, 4000, 15);
      assert.ok(walPeak < 1500 * FRAME, `the WAL restarted: peak ${walPeak / FRAME} frames of 4000 written`);
      assert.ok(size(t.file) > 1000 * 4096, 'events.db holds the copied pages');
      assert.equal((await t.store.readAll()).length, next - first);
    } finally {
      await t.store.close();
      await checkpointer.close();
      t.done();
    }
  });

  it('without it a writer checkpoints only past selfCheckpointPages: the WAL stays bounded', async () => {
    const t = tempStore(1500);
    // Stopped before any write: the writer is on its own.
    await new WalCheckpointer(t.file, t.lock).close();
    try {
      const created = size(t.file);
      await write(t.file, t.store, 1200);
      assert.equal(size(t.file), created, 'below its bound the writer never checkpointed (SQLite\'s default would have at 1000 pages)');
      const { walPeak } = await write(t.file, t.store, 6000);
      assert.ok(size(t.file) > created, 'past its bound the writer checkpointed');
      assert.ok(walPeak < (1500 + 100) * FRAME, `the WAL stopped at its bound: peak ${walPeak / FRAME} frames`);
    } finally {
      await t.store.close();
      t.done();
    }
  });

  it('a stop leaves events.db checkpointed, with no WAL, and every event in it', async () => {
    const t = tempStore(100_000);
    const checkpointer = new WalCheckpointer(t.file, t.lock);
    const first = next;
    await write(t.file, t.store, 500);
    const appended = next - first;
    await t.store.close();
    await checkpointer.close();
    try {
      assert.equal(existsSync(`${t.file}-wal`), false, 'the last connection to close checkpointed and removed the WAL');
      const reopened = new SqliteEventStore(t.file);
      const events = await reopened.readAll();
      await reopened.close();
      assert.equal(events.length, appended);
    } finally {
      t.done();
    }
  });

  it('a thread that cannot run is reported once, with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-wal-'));
    const { logger, errors } = capture();
    const checkpointer = new WalCheckpointer(join(dir, 'missing.db'), new WriteLock(), logger);
    try {
      for (let i = 0; i < 100 && errors.length === 0; i++) await sleep(50);
      await checkpointer.close();
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /restart Herald.*checkpoint the WAL themselves once it reaches 64 MB/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a thread stuck in a pass is reported once, with what to check, and once when it moves again', async () => {
    const t = tempStore(100_000);
    const { logger, warnings, infos, errors } = capture();
    const checkpointer = new WalCheckpointer(t.file, t.lock, logger, { intervalMs: 10, restartPages: 300, stallMs: 200 });
    // A connection outside the writers' lock, so that the test can write while it holds the lock.
    const raw = new Database(t.file);
    // Its commits leave the WAL to the thread, as the store's do.
    raw.pragma('wal_autocheckpoint = 0');
    const lock = new Int32Array(t.lock.buffer);
    try {
      const created = size(t.file);
      await write(t.file, t.store, 400, 15);
      assert.ok(await until(10_000, () => size(t.file) > created), 'the thread runs: it copied the first frames');
      await sleep(600);
      assert.deepEqual(warnings, [], 'a thread that keeps up is not reported');
      // The writers' lock taken, as by a writer stuck in its commit: the pass that must hold it
      // to let the writers restart the WAL blocks its thread (up to the lock's 5 s).
      Atomics.store(lock, 0, 1);
      raw.exec('CREATE TABLE filler (x BLOB)');
      raw.transaction(() => {
        const insert = raw.prepare('INSERT INTO filler VALUES (randomblob(4000))');
        for (let i = 0; i < 1200; i++) insert.run();
      })();
      assert.ok(await until(4000, () => warnings.length > 0), 'the stall is reported');
      await sleep(500);
      assert.equal(warnings.length, 1, `once, not per look: ${warnings.join('\n')}`);
      assert.match(warnings[0]!, /WAL checkpoints of .*events\.db have made no progress for \d+ s: .*check the disk.*64 MB/);
      assert.deepEqual(infos, []);
      Atomics.store(lock, 0, 0);
      Atomics.notify(lock, 0);
      assert.ok(await until(6000, () => infos.length > 0), 'its progress is reported');
      await sleep(500);
      assert.deepEqual(infos, ['WAL checkpoints make progress again']);
      assert.equal(warnings.length, 1);
      assert.deepEqual(errors, []);
    } finally {
      Atomics.store(lock, 0, 0);
      raw.close();
      await t.store.close();
      await checkpointer.close();
      t.done();
    }
  });
});
