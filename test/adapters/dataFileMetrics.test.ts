import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { Metrics } from '../../src/metrics.ts';

const gauge = (body: string, name: string, labels = '') => {
  const match = new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)$`, 'm').exec(body);
  return match ? Number(match[1]) : undefined;
};

describe('disk gauges of the embedded stores in /metrics', () => {
  it('report each store file and its WAL by size, and the free and total space of the data dir’s filesystem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-diskmetrics-'));
    const file = join(dir, 'events.db');
    const events = new SqliteEventStore(file);
    try {
      const metrics = new Metrics({ processMetrics: false });
      metrics.watchDataFiles(dir, [file, join(dir, 'read-models.db')]);
      await events.append('user-u1', [{ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'a@example.com', at: '2026-11-29T05:00:00.000Z' } }], 'no_stream');
      const body = (await metrics.render()).body;

      assert.equal(gauge(body, 'herald_data_file_bytes', '{file="events.db"}'), (await stat(file)).size);
      const wal = gauge(body, 'herald_data_file_bytes', '{file="events.db-wal"}');
      assert.equal(wal, (await stat(`${file}-wal`)).size);
      assert.ok(wal > 0, 'the append is in the WAL until a checkpoint');
      // A store file that does not exist is left out, not reported as empty.
      assert.doesNotMatch(body, /read-models\.db/);

      const fs = await statfs(dir);
      const total = gauge(body, 'herald_data_dir_size_bytes');
      const free = gauge(body, 'herald_data_dir_free_bytes');
      assert.equal(total, fs.blocks * fs.bsize);
      assert.ok(free !== undefined && free > 0 && free <= total, `free ${free} of ${total}`);
    } finally {
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
