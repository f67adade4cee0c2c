import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import type { CommitOptions, DocChange } from '../../src/ports/readModelStore.ts';
import { createLogger } from '../../src/logger.ts';
import { rebuild } from '../../src/processors/rebuild.ts';
import { notificationLog } from '../../src/projections/notificationLog.ts';
import { writeLog } from './eventLog.ts';

/** The SQLite read-model store, keeping the checkpoint of every build commit. */
class RecordingStore extends SqliteReadModelStore {
  readonly flushedAt: number[] = [];
  override async commit(changes: readonly DocChange[], checkpoint?: { name: string; position: number }, options?: CommitOptions) {
    if (checkpoint?.name.includes('__build') && !checkpoint.name.endsWith('#generation')) this.flushedAt.push(checkpoint.position);
    return super.commit(changes, checkpoint, options);
  }
}

describe('a build pass in log order flushes sooner as the end nears', () => {
  it('flushes every flushEvents, then each time as many events were read since the last flush as are left, so the last flush is small', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-buildpass-'));
    const events = new SqliteEventStore(join(dir, 'events.db'));
    const readModels = new RecordingStore(join(dir, 'read-models.db'));
    try {
      await writeLog(events, 12_000);
      const head = await events.headPosition();
      await rebuild(events, readModels, notificationLog, createLogger('silent'), { inLogOrder: true, batchSize: 250, flushEvents: 4_000 });
      const gaps = readModels.flushedAt.map((p, i) => p - (readModels.flushedAt[i - 1] ?? 0));
      assert.equal(readModels.flushedAt.at(-1), head);
      // flushEvents counts the events read (of the build's types), so in log positions a gap is larger.
      const first = gaps[0]!;
      assert.ok(gaps.length >= 5, `flushed ${gaps.length} times: ${gaps.join(', ')}`);
      assert.ok(gaps.slice(-3).every((g, i, tail) => g < first && (i === 0 || g <= tail[i - 1]!)), `the last flushes come sooner and sooner: ${gaps.join(', ')}`);
      assert.ok(gaps.at(-1)! <= first / 8, `the last flush is small: ${gaps.join(', ')}`);
    } finally {
      await readModels.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
