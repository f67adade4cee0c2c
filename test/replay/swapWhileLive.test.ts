import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { Projector } from '../../src/processors/projector.ts';
import { rebuildAll } from '../../src/processors/rebuild.ts';
import { PROJECTIONS } from '../../src/projections/index.ts';
import type { CollectionSpec, EnsureOptions } from '../../src/ports/readModelStore.ts';
import { eventually } from '../support/wait.ts';
import { writeLog } from './eventLog.ts';

const logger = createLogger('silent');
const late = '00000000-0000-4000-8000-00000000abcd';

describe('replay beside a running service', () => {
  it('keeps what the service projected while the new copies\' indexes were built', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-swap-live-'));
    const events = new SqliteEventStore(join(dir, 'events.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'read-models.db'));
    const live = new Projector(events, readModels, PROJECTIONS, logger);
    try {
      await writeLog(events, 2_000);
      await live.start();
      const projected = async () => ((await readModels.get('notifications', late)) ? true : undefined);
      // The running service gets a notification while replay builds the indexes (as MongoDB does
      // only then, for seconds on a large log): its projector writes it into the live copy.
      let armed = true;
      const indexing = Object.create(readModels, {
        ensureCollection: {
          value: async (spec: CollectionSpec, options?: EnsureOptions) => {
            if (armed && spec.name.endsWith('__build') && !options?.deferIndexes) {
              armed = false;
              await events.append(`notification-${late}`, [encodeEvent({
                type: 'NotificationRequested',
                data: { notificationId: late, userId: 'u-late', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at: '2026-11-29T10:00:00.000Z' },
              })], 'no_stream');
              await eventually(10_000, 'the live projector at the new notification', projected);
            }
            return readModels.ensureCollection(spec, options);
          },
        },
      }) as SqliteReadModelStore;
      await rebuildAll(events, indexing, PROJECTIONS, logger);
      assert.equal(armed, false, 'the service projected during the index build');
      assert.ok(await projected(), 'the swapped-in notification log has the notification projected while its indexes were built');
    } finally {
      await live.stop();
      await readModels.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
