/**
 * A delivery worker whose job waited its turn behind the route's rate checks it again before the
 * provider call, on the embedded store: the cases the end-to-end test (test/e2e/waitedDelivery)
 * does not reach through the API.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { handle } from '../../src/commands/handle.ts';
import { notificationAggregate } from '../../src/commands/sendNotification.ts';
import { handleUserCommand } from '../../src/commands/users.ts';
import { defaultPreferences } from '../../src/domain/preferences.ts';
import type { DeliveryProvider } from '../../src/ports/deliveryProvider.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { RateLimiter } from '../../src/processors/rateLimiter.ts';
import { capturingLogger } from '../support/logLines.ts';
import { appendEmailRequest } from '../support/emailRequest.ts';
import { eventually } from '../support/wait.ts';

const id = '00000000-0000-4000-8000-0000000000c1';
// 23:00 UTC: inside quiet hours of 22:00 to 07:00 for a user in UTC.
const now = () => new Date('2026-11-29T23:00:00.000Z');

/** A worker on a fresh store whose route's only token is spent: its first job waits four seconds for its turn. */
async function waitingWorker() {
  const dir = await mkdtemp(join(tmpdir(), 'herald-waited-'));
  const store = new SqliteEventStore(join(dir, 'e.db'));
  const sandbox = createSandboxProvider('email', { outboxFile: join(dir, 'outbox.jsonl') });
  const counted = { calls: 0, to: [] as string[] };
  const provider: DeliveryProvider = { ...sandbox, send: (messages) => ((counted.calls += 1), counted.to.push(...messages.map((m) => m.to)), sandbox.send(messages)) };
  const limiter = new RateLimiter(0.25);
  await limiter.take(1);
  const worker = new DeliveryProcessor({ events: store, provider, logger: capturingLogger().logger, now, batchWindowMs: 1, ratePerSecond: 0.25, limiter });
  const waiting = async () => {
    await appendEmailRequest(store, id, now().toISOString());
    await worker.start();
    await eventually(3000, 'the delivery held by the worker', async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 1 ? true : undefined));
    // Planned (its stream read) and waiting for the limiter.
    await new Promise((r) => setTimeout(r, 200));
  };
  const settled = () => eventually(8000, 'the delivery acked', async () => ((await store.persistentSubscriptionInfo(worker.group)).inFlight === 0 ? true : undefined));
  const done = async () => {
    await worker.stop();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { store, counted, waiting, settled, done };
}

/** What came of the waiting delivery once `change` was made while it waited: the provider's calls and the stream. */
async function changedWhileWaiting(change: (store: SqliteEventStore) => Promise<unknown>) {
  const w = await waitingWorker();
  try {
    await w.waiting();
    await change(w.store);
    await w.settled();
    return { calls: w.counted.calls, to: w.counted.to, events: await w.store.readStream(`notification-${id}`) };
  } finally {
    await w.done();
  }
}

describe('a delivery that waited its turn at the route\'s rate', () => {
  it('is not sent again when another worker sent it meanwhile (its event handed out again after the message timeout)', async () => {
    const outcome = { kind: 'sent' as const, provider: 'sandbox', deliveries: [{ to: 'u***@example.com', providerMessageId: 'other-worker' }], rejected: [] };
    const got = await changedWhileWaiting((store) => handle(store, `notification-${id}`, notificationAggregate, { type: 'RecordDelivery', data: { notificationId: id, route: 'email', attempt: 1, maxAttempts: 12, retryAt: now().toISOString(), outcome } }, { now }));
    assert.equal(got.calls, 0, 'the provider was not called');
    assert.deepEqual(got.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent']);
  });

  it('waits for the end of quiet hours the user set meanwhile instead of going out in them', async () => {
    const got = await changedWhileWaiting((store) => handleUserCommand({ store, now }, { type: 'SetPreferences', data: { userId: 'u1', preferences: { ...defaultPreferences(), quietHours: { start: '22:00', end: '07:00' } } } }));
    assert.equal(got.calls, 0, 'the provider was not called');
    const held = got.events.find((e) => e.type === 'DeliveryHeld');
    assert.deepEqual(held?.data, { notificationId: id, route: 'email', attempt: 1, until: '2026-11-30T07:00:00.000Z', reason: 'quiet_hours', at: now().toISOString() });
  });

  it('is not sent to an address opted out meanwhile (a spam report, a bounce, a STOP): planned again, it finds none', async () => {
    const got = await changedWhileWaiting((store) => handleUserCommand({ store, now }, { type: 'OptOutContact', data: { userId: 'u1', channel: 'email', address: 'u1@example.com', reason: 'spam_report', source: 'sendgrid' } }));
    assert.deepEqual(got.to, [], 'nothing went to the opted-out address');
    assert.deepEqual(got.events.map((e) => e.type), ['NotificationRequested', 'NotificationFailed']);
  });

  it('goes to the address the user gave meanwhile, not to the one it was planned for', async () => {
    const got = await changedWhileWaiting((store) => handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId: 'u1', email: 'new@example.com', phone: null, locale: null, timezone: null } }));
    assert.deepEqual(got.to, ['new@example.com']);
    assert.deepEqual(got.events.map((e) => e.type), ['NotificationRequested', 'NotificationSent']);
  });
});
