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
import { gatherPause } from '../../src/processors/gatherPause.ts';
import { PROJECTIONS } from '../../src/projections/index.ts';
import { eventually } from '../support/wait.ts';
import { capturingLogger } from '../support/logLines.ts';
import { refusing } from '../support/refusing.ts';
import { Metrics } from '../../src/metrics.ts';
import { ProjectionFault } from '../../src/processors/projectionFault.ts';
import { rebuildAll } from '../../src/processors/rebuild.ts';
import type { Projection } from '../../src/projections/projection.ts';
import type { Recorded } from '../../src/domain/events.ts';

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

describe('a projection whose own code throws on an event', () => {
  it('stops alone, at its last commit, says so with what to do, and the other read models go on', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-fault-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const notifications = PROJECTIONS.find((p) => p.name === 'notifications')!;
    const poison = (event: Recorded) => event.type === 'NotificationRequested' && event.data.userId === 'poison';
    // Two copies of the notification log, each with a bug on one event: in evolve, and in keyOf.
    const buggy = (name: string, where: 'evolve' | 'keyOf'): Projection => ({
      ...notifications,
      name,
      collection: { ...notifications.collection, name },
      keyOf: (event) => {
        if (where === 'keyOf' && poison(event)) throw new Error('keyOf bug');
        return notifications.keyOf(event);
      },
      evolve: (doc, event) => {
        if (where === 'evolve' && poison(event)) throw new Error('evolve bug');
        return notifications.evolve(doc, event);
      },
    });
    const { logger, errors: errorLines } = capturingLogger();
    const projector = new Projector(events, readModels, [...PROJECTIONS, buggy('evolve_bug', 'evolve'), buggy('keyof_bug', 'keyOf')], logger, { minMs: 1, maxMs: 1 });
    const at = '2026-11-23T10:00:00.000Z';
    const request = (n: number, userId: string) => {
      const notificationId = `00000000-0000-4000-8000-00000000000${n}`;
      return events.append(`notification-${notificationId}`, [encodeEvent({
        type: 'NotificationRequested',
        data: { notificationId, userId, channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at },
      })], 'no_stream');
    };
    const applied = (name: string, position: number) => eventually(5000, `${name} at ${position}`, async () => ((projector.positions.get(name) ?? 0) >= position ? true : undefined));
    try {
      await projector.start();
      const first = await request(1, 'u1');
      for (const name of ['notifications', 'evolve_bug', 'keyof_bug']) await applied(name, first.position);
      const bad = await request(2, 'poison');
      const after = await request(3, 'u1');
      await applied('notifications', after.position);
      assert.ok(await readModels.get('notifications', '00000000-0000-4000-8000-000000000003'), 'the sound read models go on past the poison event');
      await eventually(5000, 'both buggy read models stopped', async () => (projector.stopped.size === 2 ? true : undefined));
      assert.deepEqual([...projector.stopped].sort(), ['evolve_bug', 'keyof_bug']);
      for (const name of ['evolve_bug', 'keyof_bug']) {
        assert.equal(projector.positions.get(name), first.position, `${name} stays at its last commit`);
        assert.equal(await readModels.getCheckpoint(checkpointName(projector.projections.find((p) => p.name === name)!)), first.position);
        assert.ok(await readModels.get(name, '00000000-0000-4000-8000-000000000001'));
        assert.equal(await readModels.get(name, '00000000-0000-4000-8000-000000000003'), null);
        const line = errorLines().find((e) => e.obj.projection === name);
        assert.ok(line, `an error line names ${name}`);
        assert.match(line.msg ?? '', new RegExp(`^projection ${name} cannot apply NotificationRequested of notification-\\S+ at position ${bad.position}: (evolve|keyOf) bug\\. This read model stops at position ${first.position} and the others go on; fix the projection, then restart Herald \\(it resumes from there\\) or rebuild it with \\\`npm run replay -- ${name}\\\`$`));
        assert.deepEqual(line.obj.event, { type: 'NotificationRequested', position: bad.position, streamName: 'notification-00000000-0000-4000-8000-000000000002' });
      }
      assert.equal(errorLines().length, 2, 'one line each, no retries');
      // A rebuild cannot leave the event out: it ends on the same fault, with what it was.
      await assert.rejects(rebuildAll(events, readModels, [buggy('evolve_bug', 'evolve')], logger), (error: unknown) => error instanceof ProjectionFault && error.event.position === bad.position);
      await assert.rejects(rebuildAll(events, readModels, [buggy('keyof_bug', 'keyOf')], logger), (error: unknown) => error instanceof ProjectionFault && /keyOf bug$/.test(error.message));
      const metrics = new Metrics({ processMetrics: false });
      metrics.watchProjections(events, projector);
      const body = (await metrics.render()).body;
      assert.match(body, /herald_projection_stopped\{projection="evolve_bug"\} 1\n/);
      assert.match(body, /herald_projection_stopped\{projection="notifications"\} 0\n/);
    } finally {
      await projector.stop();
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('an event whose data does not match its type\'s schema', () => {
  it('is skipped by every read model that takes its type, once, named in an error line and counted in /metrics; the events after it are applied', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-unreadable-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const { logger, errors: errorLines } = capturingLogger();
    const projector = new Projector(events, readModels, PROJECTIONS, logger, { minMs: 1, maxMs: 1 });
    const at = '2026-11-23T10:00:00.000Z';
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    const request = (n: number) => events.append(`notification-${id(n)}`, [encodeEvent({
      type: 'NotificationRequested',
      data: { notificationId: id(n), userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at },
    })], 'no_stream');
    const takers = PROJECTIONS.filter((p) => p.eventTypes.includes('NotificationRequested')).map((p) => p.name).sort();
    try {
      await projector.start();
      await request(1);
      // What another writer (or another version of Herald) could leave in the log: the type is Herald's, the data is not.
      const bad = await events.append(`notification-${id(2)}`, [{ type: 'NotificationRequested', data: { notificationId: id(2), userId: 42 } }], 'no_stream');
      const after = await request(3);
      await eventually(5000, 'every read model past the event after it', async () => (PROJECTIONS.every((p) => (projector.positions.get(p.name) ?? 0) >= after.position) ? true : undefined));
      assert.ok(await readModels.get('notifications', id(3)), 'the event after it is applied');
      assert.ok(await readModels.get('notifications', id(1)));
      assert.equal(await readModels.get('notifications', id(2)), null);
      assert.deepEqual([...projector.stopped], [], 'no read model stops on it');
      assert.deepEqual([...projector.unreadable.keys()].sort(), takers);
      for (const name of takers) assert.equal(projector.unreadable.get(name), 1, `${name} skipped it once`);
      assert.equal(errorLines().length, 1, 'one error line for all the read models that take its type');
      const line = errorLines()[0]!;
      assert.deepEqual(line.obj.event, { type: 'NotificationRequested', position: bad.position, streamName: `notification-${id(2)}` });
      assert.deepEqual([...(line.obj.projections as string[])].sort(), takers);
      assert.match(line.msg ?? '', new RegExp(`^event NotificationRequested at notification-${id(2)}@0 cannot be read: [^]*\\. The read models [a-z_, ]+ skip it and go on \\(herald_projection_unreadable_events_total counts it\\)`));
      const metrics = new Metrics({ processMetrics: false });
      metrics.watchProjections(events, projector);
      const body = (await metrics.render()).body;
      assert.match(body, /herald_projection_unreadable_events_total\{projection="notifications"\} 1\n/);
      assert.match(body, /herald_projection_unreadable_events_total\{projection="contacts"\} 0\n/);
      // A rebuild reads the same log and leaves it out the same way.
      const [rebuilt] = await rebuildAll(events, readModels, [PROJECTIONS.find((p) => p.name === 'notifications')!], logger);
      assert.equal(rebuilt!.swapped, true);
      assert.ok(await readModels.get('notifications', id(3)));
      assert.equal(await readModels.get('notifications', id(2)), null);
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

describe('the projector while the read-model store cannot write (a full disk)', () => {
  it('retries each batch every second, logs the failure once per read model rather than every try, and catches up once the store is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-follow-full-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const store = new SqliteReadModelStore(join(dir, 'r.db'));
    let full = false;
    const readModels = refusing(store, (method) => full && method === 'commit', () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    const { logger, errors } = capturingLogger();
    const contacts = PROJECTIONS.find((p) => p.name === 'contacts')!;
    const projector = new Projector(events, readModels, [contacts], logger);
    try {
      await projector.start();
      full = true;
      const at = '2026-11-29T05:00:00.000Z';
      const written = await events.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', at } })], 'no_stream');
      await eventually(5000, 'the batch failing', async () => (errors().length > 0 ? true : undefined));
      // Two more tries at least, a second apart: none of them logs again.
      await new Promise((r) => setTimeout(r, 2_300));
      assert.deepEqual(errors().map((l) => [l.msg, l.obj.projection, l.obj.failures]), [['projection batch failed; retrying every second (logged again once a minute while it fails)', 'contacts', 1]]);
      assert.equal(await readModels.get('contacts', 'u1'), null);
      full = false;
      await eventually(5000, 'the read model caught up', async () => ((projector.positions.get('contacts') ?? 0) >= written.position ? true : undefined));
      assert.equal((await readModels.get('contacts', 'u1'))?.doc.email, 'u1@example.com');
      assert.equal(errors().length, 1);
    } finally {
      await projector.stop();
      await events.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
