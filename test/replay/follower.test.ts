import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { checkpointName, Projector } from '../../src/processors/projector.ts';
import { gatherPause } from '../../src/processors/follower.ts';
import { PROJECTIONS } from '../../src/projections/index.ts';
import { eventually } from '../support/wait.ts';

describe('the projector follows the log once for every projection', () => {
  it('moves each checkpoint past the last event of its types, also one it keeps no document for, and reports the positions', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-follow-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const projector = new Projector(events, readModels, PROJECTIONS, createLogger('silent'));
    try {
      const at = '2026-11-23T10:00:00.000Z';
      const id = '00000000-0000-4000-8000-000000000001';
      await events.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', at } })], 'no_stream');
      await events.append(`notification-${id}`, [encodeEvent({
        type: 'NotificationRequested',
        data: { notificationId: id, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', sendAt: '2026-11-23T11:00:00.000Z', at },
      })], 'no_stream');
      await projector.start();
      // DeliveryDue is one of the notifications read model's types, yet gives it no document to write.
      const due = await events.append(`notification-${id}`, [encodeEvent({ type: 'DeliveryDue', data: { notificationId: id, route: 'email', attempt: 1, at } })], 0);
      const notifications = PROJECTIONS.find((p) => p.name === 'notifications')!;
      // Each read model commits on its own (other work may run in between), so wait for all of them.
      await eventually(5000, 'every read model past DeliveryDue', async () => {
        for (const p of PROJECTIONS) if ((projector.positions.get(p.name) ?? 0) < due.position) return undefined;
        return true;
      });
      assert.ok((await readModels.getCheckpoint(checkpointName(notifications))) >= due.position, 'the notifications checkpoint is past DeliveryDue');
      assert.equal((await readModels.get('schedule', id)), null, 'DeliveryDue took the scheduled send off the schedule');
      assert.equal((await readModels.get('contacts', 'u1'))?.doc.email, 'u1@example.com');
      for (const p of PROJECTIONS) assert.equal(projector.positions.get(p.name), due.position, `${p.name} reports the position it has applied`);
    } finally {
      await projector.stop();
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the pause between batches grows with the load', () => {
  const gather = { minMs: 20, maxMs: 250 };

  it('applies a trickle within the shortest pause', () => {
    assert.equal(gatherPause(1, gather), 20);
    assert.equal(gatherPause(80, gather), 20);
  });

  it('waits longer after a larger batch, so the next commit carries more, up to the longest pause', () => {
    assert.equal(gatherPause(400, gather), 100);
    assert.equal(gatherPause(1000, gather), 250);
    assert.equal(gatherPause(4999, gather), 250);
  });

  it('does not pause while catching up (a full batch) or when pausing is turned off', () => {
    assert.equal(gatherPause(5000, gather), 0);
    assert.equal(gatherPause(10, gather, 10), 0);
    assert.equal(gatherPause(10, { minMs: 0, maxMs: 0 }), 0);
  });
});

describe('after a burst the projector stops pausing once the log goes quiet', () => {
  it('applies an event that ends a burst without waiting out the pause the burst earned', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-quiet-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const contacts = PROJECTIONS.filter((p) => p.name === 'contacts');
    // 4,999 events in one batch earn a pause of about 1,250 ms (a quarter of a millisecond each).
    const gather = { minMs: 20, maxMs: 5000 };
    const projector = new Projector(events, readModels, contacts, createLogger('silent'), gather);
    const profile = (n: number) => encodeEvent({ type: 'UserProfileUpdated', data: { userId: `u${n}`, email: `u${n}@example.com`, at: '2026-11-23T10:00:00.000Z' } });
    try {
      assert.equal(gatherPause(4999, gather), 1249.75);
      for (let n = 0; n < 4999; n += 1) void events.append(`user-u${n}`, [profile(n)], 'no_stream');
      const burst = await events.append('user-u4999', [], 'any');
      await projector.start();
      await eventually(10_000, 'the burst applied', async () => ((projector.positions.get('contacts') ?? 0) >= burst.position ? true : undefined));
      const last = await events.append('user-last', [profile(5000)], 'no_stream');
      const appended = performance.now();
      await eventually(10_000, 'the last event applied', async () => ((projector.positions.get('contacts') ?? 0) >= last.position ? true : undefined));
      const waited = performance.now() - appended;
      assert.ok(waited < 1000, `applied ${Math.round(waited)} ms after it was appended; the burst's pause alone is 1,250 ms`);
    } finally {
      await projector.stop();
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
