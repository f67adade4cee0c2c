import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { CALLBACK_GROUP, CallbackProcessor } from '../../src/processors/callbackProcessor.ts';
import { createLogger } from '../../src/logger.ts';
import { eventually } from '../support/wait.ts';
import { startReceiver } from './receiver.ts';

const at = '2026-11-29T10:00:00.000Z';
const requested = (id: string, appId: string) => ({ type: 'NotificationRequested', data: { notificationId: id, userId: 'u-1', channel: 'email', category: 'news', content: { email: { subject: 's', html: 'h' } }, routes: ['email'], priority: 'normal', at }, metadata: { appId } });
const sent = (id: string) => ({ type: 'NotificationSent', data: { notificationId: id, route: 'email', provider: 'sandbox', deliveries: [{ to: 'a•••@example.com', providerMessageId: `m-${id}` }], rejected: [], at } });

describe('the callback processor on the embedded store', () => {
  it('sees a callback set just before an outcome, and parks what comes past an app\'s backlog while its receiver hangs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-callbacks-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const receiver = await startReceiver({ '/hang': () => 'never' });
    const processor = new CallbackProcessor({ events, logger: createLogger('silent'), serverSecret: Buffer.alloc(32, 1), config: { timeoutMs: 30_000, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, perAppBacklog: 1 });
    try {
      await processor.start();
      await events.append('app-a1', [
        { type: 'AppCreated', data: { appId: 'a1', name: 'shop', scopes: ['send'], keyId: 'ak_1', sha256: 'a'.repeat(64), at } },
        { type: 'AppCallbackSet', data: { appId: 'a1', url: receiver.url('/hang'), events: ['sent'], secretVersion: 1, at } },
      ], 'no_stream');
      for (const id of ['n1', 'n2', 'n3']) await events.append(`notification-${id}`, [requested(id, 'a1'), sent(id)], 'no_stream');
      // n1 is out (its POST hangs), n2 waits in the lane (the backlog of 1), n3 finds it full.
      const parked = await eventually(20_000, 'n3 parked', async () => (await events.listParked(CALLBACK_GROUP)).find((p) => p.event.streamName === 'notification-n3'));
      assert.match(parked.reason, /app a1 already has 1 callbacks waiting/);
      assert.equal((await events.listParked(CALLBACK_GROUP)).length, 1);
      // Its POST may reach the receiver after n3 was parked on a loaded machine.
      await eventually(20_000, 'n1 sent as soon as the callback was set', async () => receiver.at('/hang').length === 1 || undefined);
      assert.equal(receiver.at('/hang').length, 1);
    } finally {
      await processor.stop();
      await receiver.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shares the window between stalled receivers, so another app\'s callback still comes out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-callbacks-'));
    const events = new SqliteEventStore(join(dir, 'e.db'));
    const receiver = await startReceiver({ '/hang': () => 'never', '/ok': () => ({ status: 200 }) });
    const processor = new CallbackProcessor({ events, logger: createLogger('silent'), serverSecret: Buffer.alloc(32, 1), config: { timeoutMs: 30_000, maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, sharedWindow: 20 });
    const app = (id: string, path: string) => [
      { type: 'AppCreated', data: { appId: id, name: id, scopes: ['send'], keyId: `ak_${id}`, sha256: 'a'.repeat(64), at } },
      { type: 'AppCallbackSet', data: { appId: id, url: receiver.url(path), events: ['sent'], secretVersion: 1, at } },
    ];
    try {
      await processor.start();
      for (const id of ['h1', 'h2', 'h3', 'h4']) await events.append(`app-${id}`, app(id, '/hang'), 'no_stream');
      await events.append('app-ok', app('ok', '/ok'), 'no_stream');
      for (let i = 0; i < 15; i++) for (const id of ['h1', 'h2', 'h3', 'h4']) await events.append(`notification-${id}-${i}`, [requested(`${id}-${i}`, id), sent(`${id}-${i}`)], 'no_stream');
      await events.append('notification-ok-1', [requested('ok-1', 'ok'), sent('ok-1')], 'no_stream');
      // 60 outcomes for four receivers that never answer: without the sharing each queue would hold
      // all 15 (60 in flight); shared, they hold about 20 together and the rest are parked.
      await eventually(20_000, 'the answering app\'s callback', async () => receiver.at('/ok').length === 1 || undefined);
      const parked = await eventually(20_000, 'the stalled apps\' overflow parked', async () => {
        const n = (await events.listParked(CALLBACK_GROUP, { limit: 100 })).length;
        return n >= 35 ? n : undefined;
      });
      const { inFlight } = await events.persistentSubscriptionInfo(CALLBACK_GROUP);
      assert.ok(inFlight <= 25, `${inFlight} events held by the stalled queues (${parked} parked)`);
    } finally {
      await processor.stop();
      await receiver.close();
      await events.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
