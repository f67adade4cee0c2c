import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { checkpointName, Projector } from '../../src/processors/projector.ts';
import { contacts, type ContactsDoc } from '../../src/projections/contacts.ts';
import { schedule } from '../../src/projections/schedule.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { eventually } from '../support/wait.ts';

const at = '2026-11-23T10:00:00.000Z';
// Pinned at 1 whatever contacts' own version is: the tests move it to 2.
const v1 = { ...contacts, version: 1 } as unknown as Projection;

interface Built {
  events: SqliteEventStore;
  readModels: SqliteReadModelStore;
  logger: Logger;
  /** Every log line written so far. */
  lines: string[];
}

/** `users` profiles in the log and contacts v1 built from them (its projector stopped), then `body`. */
async function withV1Built(users: number, body: (built: Built) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-version-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => done(void lines.push(chunk.toString())) }));
  try {
    for (let u = 0; u < users; u += 1) await events.append(`user-u${u}`, [encodeEvent({ type: 'UserProfileUpdated', data: { userId: `u${u}`, email: `u${u}@example.com`, at } })], 'no_stream');
    const first = new Projector(events, readModels, [v1], logger);
    await first.start();
    await eventually(5000, 'v1 built', async () => ((await readModels.getCheckpoint(checkpointName(v1))) > 0 ? true : undefined));
    await first.stop();
    await body({ events, readModels, logger, lines });
  } finally {
    await events.close();
    await readModels.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('projection versioning', () => {
  it('rebuilds a projection whose version changed, blue/green, says so, then follows the log', () => withV1Built(50, async ({ events, readModels, logger, lines }) => {
    // v2 changes what evolve writes: every document gains a field v1 never wrote.
    const v2: Projection = { ...v1, version: 2, evolve: (doc, e) => {
      const next = contacts.evolve(doc as ContactsDoc | null, e);
      return next && { ...next, v2: true };
    } };
    const second = new Projector(events, readModels, [v2], logger);
    await second.start();
    await eventually(5000, 'v2 swapped in', async () => ((await readModels.getCheckpoint(checkpointName(v2))) > 0 ? true : undefined));
    assert.ok(lines.some((l) => l.includes('changed from v1 to v2: rebuilding')), 'the service says it rebuilds');
    assert.ok(lines.some((l) => l.includes('rebuilt and swapped in')));
    const docs = await readModels.find('contacts');
    assert.equal(docs.length, 50);
    assert.ok(docs.every((d) => d.doc.v2 === true));
    await events.append('user-late', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'late', email: 'late@example.com', at } })], 'no_stream');
    await eventually(5000, 'a new event followed live', async () => (await readModels.get('contacts', 'late'))?.doc.v2);
    await second.stop();
  }));

  it('stops a rebuild whose new version throws on an event, once, while the old version keeps serving', () => withV1Built(10, async ({ events, readModels, logger, lines }) => {
    const v2: Projection = { ...v1, version: 2, evolve: (doc, e) => {
      if (e.type === 'UserProfileUpdated' && e.data.userId === 'u7') throw new Error('v2 bug');
      return contacts.evolve(doc as ContactsDoc | null, e);
    } };
    const second = new Projector(events, readModels, [v2], logger);
    await second.start();
    await eventually(5000, 'the rebuild stopped', async () => (second.stopped.has('contacts') ? true : undefined));
    const failed = lines.filter((l) => l.includes('cannot apply'));
    assert.equal(failed.length, 1, 'said once, not retried');
    assert.match(failed[0]!, /projection contacts cannot apply UserProfileUpdated of user-u7 at position \d+: v2 bug\. The rebuild to v2 stops at its build checkpoint and v1 keeps serving/);
    assert.ok(!lines.some((l) => l.includes('retrying in 5 s')));
    assert.equal((await readModels.find('contacts')).length, 10, 'v1 still serves');
    await second.stop();
  }));

  // The build before DeliveryHeld (schedule v1) skips the event: its type is unknown to it. Run
  // against a log that holds one (a rollback, an old projector beside a new worker, or a stop with
  // the projector behind), it moves the checkpoint past it; the build after must not resume from
  // that checkpoint, or the held attempt never comes due.
  it('rebuilds the schedule when coming back from a build that skipped DeliveryHeld, so a held attempt comes due', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-version-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const logger = createLogger('warn', new Writable({ write: (_chunk: Buffer, _e, done) => done() }));
    const beforeHeld = { ...schedule, version: 1, eventTypes: schedule.eventTypes.filter((t) => t !== 'DeliveryHeld'), evolve: (doc, e) => (e.type === 'DeliveryHeld' ? doc : schedule.evolve(doc, e)) } satisfies typeof schedule;
    try {
      const notificationId = 'n-held';
      const until = '2026-11-24T07:00:00.000Z';
      await events.append(`notification-${notificationId}`, [
        encodeEvent({ type: 'NotificationRequested', data: { notificationId, userId: 'u1', channel: 'push', category: 'reminders', content: { push: { title: 't', body: 'b' } }, routes: ['fcm'], priority: 'normal', sendAt: '2026-11-23T22:00:00.000Z', at } }),
        encodeEvent({ type: 'DeliveryDue', data: { notificationId, route: 'fcm', attempt: 1, at: '2026-11-23T22:00:00.000Z' } }),
        encodeEvent({ type: 'DeliveryHeld', data: { notificationId, route: 'fcm', attempt: 1, until, reason: 'quiet_hours', at: '2026-11-23T22:00:00.100Z' } }),
      ], 'no_stream');
      // Another notification after it: what moves a checkpoint past the events a build ignores.
      const { position } = await events.append('notification-n-later', [
        encodeEvent({ type: 'NotificationRequested', data: { notificationId: 'n-later', userId: 'u2', channel: 'push', category: 'reminders', content: { push: { title: 't', body: 'b' } }, routes: ['fcm'], priority: 'normal', sendAt: until, at } }),
      ], 'no_stream');
      const old = new Projector(events, readModels, [beforeHeld], logger);
      await old.start();
      await eventually(5000, 'the old build past DeliveryHeld', async () => ((await readModels.getCheckpoint(checkpointName(beforeHeld as unknown as Projection))) >= position ? true : undefined));
      await old.stop();
      assert.equal(await readModels.get('schedule', notificationId), null, 'the old build lists nothing due');

      const current = new Projector(events, readModels, [schedule], logger);
      await current.start();
      await eventually(5000, 'the schedule caught up', async () => ((await readModels.getCheckpoint(checkpointName(schedule as unknown as Projection))) >= position ? true : undefined));
      await current.stop();
      assert.deepEqual((await readModels.get('schedule', notificationId))?.doc.due, [{ route: 'fcm', attempt: 1, dueAt: until }]);
    } finally {
      await events.close();
      await readModels.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
