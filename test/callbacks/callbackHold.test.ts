import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { DEFAULT_CALLBACK_CONFIG, callbackWindowMs, type CallbackConfig } from '../../src/callbacks/config.ts';
import { atLeastTwoBatches, callbackMessageTimeoutMs, laneHoldLimit, PER_APP_BACKLOG } from '../../src/processors/callbackHold.ts';
import { CALLBACK_GROUP, CallbackProcessor } from '../../src/processors/callbackProcessor.ts';
import { createLogger } from '../../src/logger.ts';
import { eventually } from '../support/wait.ts';
import { startReceiver } from './receiver.ts';

const at = '2026-11-29T10:00:00.000Z';
const requested = (id: string, appId: string) => ({ type: 'NotificationRequested', data: { notificationId: id, userId: 'u-1', channel: 'email', category: 'news', content: { email: { subject: 's', html: 'h' } }, routes: ['email'], priority: 'normal', at }, metadata: { appId } });
const sent = (id: string) => ({ type: 'NotificationSent', data: { notificationId: id, route: 'email', provider: 'sandbox', deliveries: [{ to: 'a•••@example.com', providerMessageId: `m-${id}` }], rejected: [], at } });

describe('how long a callback event is held, and how many a lane holds', () => {
  it('counts a batch at its worst: every attempt timing out and every wait at the 60 s cap (Retry-After: 60)', () => {
    assert.equal(callbackWindowMs(DEFAULT_CALLBACK_CONFIG), 6 * 5000 + 5 * 60_000);
  });

  it('makes the group\'s timeout from a full lane at the worst, twice over, so the default lane keeps its 1,000 events', () => {
    const timeout = callbackMessageTimeoutMs(DEFAULT_CALLBACK_CONFIG);
    assert.equal(timeout, 2 * 21 * 330_000);
    assert.equal(laneHoldLimit(DEFAULT_CALLBACK_CONFIG, timeout), PER_APP_BACKLOG);
    // A small window still leaves the 5 minutes the group always had.
    assert.equal(callbackMessageTimeoutMs({ timeoutMs: 100, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }), 300_000);
  });

  it('shrinks the lanes to a shorter timeout, never below the batch being sent and one more', () => {
    const second: CallbackConfig = { timeoutMs: 1000, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
    assert.equal(laneHoldLimit(second, 4000), 50);
    assert.equal(laneHoldLimit(second, 10_000), 200);
    assert.equal(atLeastTwoBatches(second, 1000), 4000);
    assert.equal(atLeastTwoBatches(second, 9000), 9000);
  });

  it('never leaves an event held past the message timeout behind a slow receiver: no second POST by another worker, nothing parked as timed out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-callbacks-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    // Answers every POST, in 600 ms: healthy, but 24 batches take longer than the 4 s timeout.
    const receiver = await startReceiver({ '/slow': () => ({ status: 200, delayMs: 600 }) });
    const options = { events, logger: createLogger('silent'), serverSecret: Buffer.alloc(32, 1), config: { timeoutMs: 1000, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, messageTimeoutMs: 4000 };
    // Two workers on one group, as two Herald processes are: an event handed out again goes to either.
    const workers = [new CallbackProcessor(options), new CallbackProcessor(options)];
    const total = 1200;
    try {
      for (const w of workers) await w.start();
      await events.append('app-a1', [
        { type: 'AppCreated', data: { appId: 'a1', name: 'shop', scopes: ['send'], keyId: 'ak_1', sha256: 'a'.repeat(64), at } },
        { type: 'AppCallbackSet', data: { appId: 'a1', url: receiver.url('/slow'), events: ['sent'], secretVersion: 1, at } },
      ], 'no_stream');
      const ids = Array.from({ length: total }, (_, i) => `n${i}`);
      await events.appendInOrder(ids.map((id) => ({ stream: `notification-${id}`, events: [requested(id, 'a1'), sent(id)], expected: 'no_stream' as const })));
      const posted = () => receiver.at('/slow').flatMap((r) => (JSON.parse(r.body) as { notificationId: string }[]).map((item) => item.notificationId));
      // Settled: every outcome POSTed or parked, and nothing held any more (a late second POST would come before).
      const parked = await eventually(60_000, 'every callback event settled', async () => {
        const list = await events.listParked(CALLBACK_GROUP, { limit: 2 * total });
        const seen = new Set([...posted(), ...list.map((p) => p.event.streamName.slice('notification-'.length))]);
        const { inFlight } = await events.persistentSubscriptionInfo(CALLBACK_GROUP);
        return seen.size === total && inFlight === 0 ? list : undefined;
      });
      const twice = posted().filter((id, i, all) => all.indexOf(id) !== i);
      assert.equal(twice.length, 0, `${twice.length} callbacks POSTed a second time after the group handed them out again (${twice.slice(0, 3).join(', ')}, …)`);
      assert.deepEqual(parked.filter((p) => /message timeout/.test(p.reason)).map((p) => p.reason), []);
      // What the lanes could not deliver within half the timeout was parked as they took it, replayable.
      assert.ok(parked.some((p) => /callbacks waiting for its receiver/.test(p.reason)), 'the overflow parked as taken');
      assert.ok(posted().length >= 2, `${posted().length} callbacks POSTed`);
    } finally {
      for (const w of workers) await w.stop();
      await receiver.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
