import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { createSandboxProvider } from '../../src/adapters/providers/sandbox/sandboxProvider.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { handleUserCommand } from '../../src/commands/users.ts';
import { DeliveryProcessor } from '../../src/processors/deliveryProcessor.ts';
import { LATE_FIRST_ATTEMPT_MS } from '../../src/processors/lateDelivery.ts';
import { capturingLogger } from '../support/logLines.ts';
import { eventually } from '../support/wait.ts';

const id = '00000000-0000-4000-8000-0000000000a1';

describe('a first attempt delivered long after its request', () => {
  it('honours an opt-out the user made meanwhile: suppressed, nothing sent', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-late-first-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const at = new Date().toISOString();
    const ctx = { store, now: () => new Date() };
    await handleUserCommand(ctx, { type: 'UpdateProfile', data: { userId: 'u1', email: 'u1@example.com' } });
    await store.append(`notification-${id}`, [encodeEvent({
      type: 'NotificationRequested',
      data: { notificationId: id, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at },
    })], 'no_stream');
    // After the requests, before any delivery: the user opts out of the category.
    await handleUserCommand(ctx, { type: 'PatchPreferences', data: { userId: 'u1', patch: { categories: { news: false } } } });
    const outbox = join(dir, 'outbox.jsonl');
    const { logger } = capturingLogger();
    const status = async () => (await store.readStream(`notification-${id}`)).map((e) => e.type).at(-1);
    const worker = (skewMs: number) => new DeliveryProcessor({ events: store, provider: createSandboxProvider('email', { outboxFile: outbox }), logger, now: () => new Date(Date.now() + skewMs), batchWindowMs: 1 });
    // The workers were down for two minutes: every event they find is that old.
    const late = worker(2 * LATE_FIRST_ATTEMPT_MS);
    try {
      await late.start();
      await eventually(5000, 'settled', async () => ((await status()) !== 'NotificationRequested' ? true : undefined));
      assert.equal(await status(), 'NotificationSuppressed');
      assert.equal((await readFile(outbox, 'utf8').catch(() => '')).trim(), '', 'nothing sent');
    } finally {
      await late.stop();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
