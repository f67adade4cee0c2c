import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { EventNotHeldError, type PersistentEvent } from '../../src/ports/eventStore.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { eventually } from '../support/wait.ts';
import { capturingLogger } from '../support/logLines.ts';

describe('a delivery worker given a request it cannot read', () => {
  it('parks it with the reason, says so, and goes on delivering the requests after it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-delivery-unreadable-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const outbox = join(dir, 'outbox.jsonl');
    const { logger, errors: errorLines } = capturingLogger();
    const worker = new DeliveryProcessor({ events, provider: createSandboxProvider('email', { outboxFile: outbox }), logger, now: () => new Date(), batchWindowMs: 1 });
    const at = '2026-11-23T10:00:00.000Z';
    const id = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
    try {
      await events.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', phone: null, locale: null, timezone: null, at } })], 'no_stream');
      // For this route by its routes field, so the group hands it over, but not a request Herald can read.
      const bad = await events.append(`notification-${id(1)}`, [{ type: 'NotificationRequested', data: { notificationId: id(1), routes: ['email'], userId: 42 } }], 'no_stream');
      await events.append(`notification-${id(2)}`, [encodeEvent({
        type: 'NotificationRequested',
        data: { notificationId: id(2), userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at },
      })], 'no_stream');
      await worker.start();
      await eventually(5000, 'the request after it sent', async () => ((await events.readStream(`notification-${id(2)}`)).some((e) => e.type === 'NotificationSent') ? true : undefined));
      const parked = await eventually(5000, 'the unreadable request parked', async () => {
        const all = await events.listParked(worker.group);
        return all.length > 0 ? all : undefined;
      });
      assert.deepEqual(parked.map((p) => p.event.position), [bad.position]);
      assert.match(parked[0]!.reason, new RegExp(`^event NotificationRequested at notification-${id(1)}@0 cannot be read: `));
      const sent = (await readFile(outbox, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { notificationId: string });
      assert.deepEqual(sent.map((m) => m.notificationId), [id(2)], 'only the readable request was delivered');
      assert.equal(errorLines().length, 1);
      assert.equal(errorLines()[0]!.msg, 'cannot prepare delivery; parking the event');
      assert.equal(errorLines()[0]!.obj.position, bad.position);
    } finally {
      await worker.stop();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('a delivery worker whose event was handed back before it settled it (its connection lost)', () => {
  it('says so as a warning and parks nothing: the group hands the event out again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-delivery-not-held-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    // The first ack of the subscription reaches no one, as after a lost connection.
    let lost = 1;
    const events = new Proxy(store, {
      get(target, key, receiver) {
        if (key !== 'connectPersistentSubscription') return Reflect.get(target, key, receiver) as unknown;
        return (group: string) => {
          const sub = target.connectPersistentSubscription(group);
          const ack = sub.ack.bind(sub);
          sub.ack = (pe: PersistentEvent) => (lost-- > 0 ? Promise.reject(new EventNotHeldError(pe.event.position, 'connection lost')) : ack(pe));
          return sub;
        };
      },
    });
    const { logger, lines } = capturingLogger();
    const worker = new DeliveryProcessor({ events, provider: createSandboxProvider('email', { outboxFile: join(dir, 'outbox.jsonl') }), logger, now: () => new Date(), batchWindowMs: 1 });
    const id = '00000000-0000-4000-8000-0000000000b1';
    const at = '2026-11-23T10:00:00.000Z';
    try {
      // Already sent: the worker has nothing to send, only the event to ack.
      await store.append(`notification-${id}`, [
        encodeEvent({ type: 'NotificationRequested', data: { notificationId: id, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } }),
        encodeEvent({ type: 'NotificationSent', data: { notificationId: id, route: 'email', provider: 'sandbox', attempt: 1, deliveries: [], rejected: [], at } }),
      ], 'no_stream');
      await worker.start();
      await eventually(5000, 'the warning', async () => (lines.some((l) => l.level === 'warn') ? true : undefined));
      assert.deepEqual(lines.map((l) => [l.level, l.msg]), [['warn', 'the event was handed back before this worker settled it; it is delivered again']]);
      assert.deepEqual(await store.listParked(worker.group), []);
    } finally {
      await worker.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
