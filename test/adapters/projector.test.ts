import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { applyBatch } from '../../src/processors/projector.ts';
import { contacts } from '../../src/projections/contacts.ts';
import type { Projection } from '../../src/projections/projection.ts';

describe('projector', () => {
  it('applying the same events twice leaves the documents unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-proj-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    try {
      const at = '2026-11-23T10:00:00.000Z';
      await events.append('user-u1', [
        encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'a@example.com', at } }),
        encodeEvent({ type: 'DeviceRegistered', data: { userId: 'u1', token: 'tok-123456', platform: 'ios', at } }),
      ], 'no_stream');
      const log = await events.readAll();
      const projection = contacts as unknown as Projection;
      await readModels.ensureCollection(projection.collection);
      await applyBatch(readModels, projection, 'contacts', log, createLogger('silent'));
      const once = await readModels.get('contacts', 'u1');
      await applyBatch(readModels, projection, 'contacts', log, createLogger('silent'));
      await applyBatch(readModels, projection, 'contacts', log.slice(1), createLogger('silent'));
      assert.deepEqual(await readModels.get('contacts', 'u1'), once);
      assert.equal((once?.doc as { devices: unknown[] }).devices.length, 1);
    } finally {
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
