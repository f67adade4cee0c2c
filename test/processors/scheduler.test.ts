import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import type { HeraldEvent } from '../../src/domain/events.ts';
import { Scheduler } from '../../src/processors/scheduler.ts';
import { schedule, type ScheduleDoc } from '../../src/projections/schedule.ts';
import { capturingLogger } from '../support/logLines.ts';
import { EventStoreUnavailableError } from '../../src/ports/eventStore.ts';
import { refusing } from '../support/refusing.ts';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const id = (kind: number, n: number) => `00000000-0000-4000-8000-${String(kind).padStart(4, '0')}${String(n).padStart(8, '0')}`;

describe('the scheduler', () => {
  it('reads past due entries it cannot make due (refused, or their stream fails), logs each failure once, and makes the later ones due', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-scheduler-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    const captured = capturingLogger();
    const { errors } = captured;
    const infos: { msg: string; entries: unknown }[] = [];
    const logger = { ...captured.logger, info: (obj: object, msg?: string) => void infos.push({ msg: msg ?? '', entries: (obj as { entries?: unknown }).entries }) };
    let clock = T0 + 2000;
    const scheduler = new Scheduler(events, readModels, logger, () => new Date(clock), 250);
    const requested = (notificationId: string, sendAt: string): HeraldEvent => ({
      type: 'NotificationRequested',
      data: { notificationId, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', sendAt, at: iso(T0 - 1000) },
    });
    const due = (notificationId: string, attempt: number, dueAt: string) => ({ collection: schedule.collection.name, id: notificationId, doc: { notificationId, due: [{ route: 'email', attempt, dueAt }], nextDueAt: dueAt } satisfies ScheduleDoc, position: 1 });
    try {
      await readModels.ensureCollection(schedule.collection);
      // 600 entries the schedule still lists though their notification was sent (a schedule read model behind, or rebuilt from another log): the decider refuses them.
      const refused = Array.from({ length: 600 }, (_, n) => id(1, n));
      for (const n of refused) {
        await events.append(`notification-${n}`, [requested(n, iso(T0)), { type: 'NotificationSent', data: { notificationId: n, route: 'email', provider: 'sandbox', deliveries: [], rejected: [], at: iso(T0) } }].map((e) => encodeEvent(e as HeraldEvent)), 'no_stream');
      }
      // Three whose stream holds an event this version cannot read (another version wrote it).
      const broken = [0, 1, 2].map((n) => id(2, n));
      for (const n of broken) {
        await events.append(`notification-${n}`, [encodeEvent(requested(n, iso(T0))), { type: 'DeliveryAttemptFailed', data: { notificationId: n, attempt: 'first' } }], 'no_stream');
      }
      // And one scheduled send, due after all of them.
      const later = id(3, 0);
      await events.append(`notification-${later}`, [encodeEvent(requested(later, iso(T0 + 1000)))], 'no_stream');
      await readModels.commit([...refused.map((n) => due(n, 1, iso(T0))), ...broken.map((n) => due(n, 2, iso(T0 + 1))), due(later, 1, iso(T0 + 1000))]);

      let marked = 0;
      for (let tick = 1; tick <= 3; tick++) marked += await scheduler.tick();
      assert.equal(marked, 1, 'the later entry is made due within three ticks');
      const laterStream = await events.readStream(`notification-${later}`);
      assert.deepEqual(laterStream.map((e) => e.type), ['NotificationRequested', 'DeliveryDue']);
      for (const n of refused.slice(0, 3)) assert.equal((await events.readStream(`notification-${n}`)).length, 2, 'nothing appended to a refused entry');

      assert.equal(errors().length, 3, 'one error line per failing entry, not one per tick');
      assert.deepEqual(errors().map((l) => l.obj.notificationId).sort(), broken);
      for (const line of errors()) assert.match(line.msg ?? '', /^scheduled delivery could not be made due; it is tried again with backoff \(next in 250 ms\), and the entries due after it go on\. If the error names an unreadable event/);
      assert.match(String((errors()[0]!.obj.err as Error).message), /cannot be read/);

      // Their backoff over, the failing ones are tried again, without a new line.
      clock += 300;
      assert.equal(await scheduler.tick(), 0);
      assert.equal(errors().length, 3);
    } finally {
      await scheduler.stop();
      await readModels.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the scheduler while the event store cannot write (a full disk)', () => {
  it('logs the outage once, not once per due entry, and makes them all due once the store is back', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-scheduler-full-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
    let full = true;
    const events = refusing(store, (method) => full && method === 'append', () => new EventStoreUnavailableError('events.db: nothing was written (SQLITE_FULL: database or disk is full); free space there, then retry'));
    const captured = capturingLogger();
    const { errors } = captured;
    const infos: { msg: string; entries: unknown }[] = [];
    const logger = { ...captured.logger, info: (obj: object, msg?: string) => void infos.push({ msg: msg ?? '', entries: (obj as { entries?: unknown }).entries }) };
    let clock = T0 + 2000;
    const scheduler = new Scheduler(events, readModels, logger, () => new Date(clock), 250);
    try {
      await readModels.ensureCollection(schedule.collection);
      const ids = Array.from({ length: 20 }, (_, n) => id(4, n));
      for (const n of ids) {
        await store.append(`notification-${n}`, [encodeEvent({ type: 'NotificationRequested', data: { notificationId: n, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', sendAt: iso(T0), at: iso(T0 - 1000) } })], 'no_stream');
      }
      await readModels.commit(ids.map((n) => ({ collection: schedule.collection.name, id: n, doc: { notificationId: n, due: [{ route: 'email', attempt: 1, dueAt: iso(T0) }], nextDueAt: iso(T0) } satisfies ScheduleDoc, position: 1 })));
      assert.equal(await scheduler.tick(), 0);
      assert.deepEqual(errors().map((l) => [l.msg, l.obj.entries]), [['scheduled deliveries cannot be made due while the event store cannot write; each is tried again with backoff (this line once a minute while it lasts; entries counts them)', 1]]);
      full = false;
      clock += 1000;
      assert.equal(await scheduler.tick(), 20, 'every entry made due once the store takes writes again');
      assert.equal(errors().length, 1);
      assert.deepEqual(infos, [{ msg: 'scheduled delivery made due after earlier failures (this line at most once a minute; entries counts those it stands for)', entries: 1 }], 'one line for the twenty, not one each');
    } finally {
      await scheduler.stop();
      await readModels.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
