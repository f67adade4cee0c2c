import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';
import { sendNotification, type SendContext } from '../../src/commands/sendNotification.ts';
import { handleUserCommand } from '../../src/commands/users.ts';

describe('a send that names a user or a channel twice', () => {
  let dir: string;
  let store: SqliteEventStore;
  const now = () => new Date();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-twice-'));
    store = new SqliteEventStore(join(dir, 'events.db'));
    await handleUserCommand({ store, now }, { type: 'UpdateProfile', data: { userId: 'ann', phone: '+14155550123', email: 'ann@example.com', timezone: 'UTC' } });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is one notification per user and channel, not one per mention', async () => {
    const ctx: SendContext = { store, now, ids: pooledUuidV7(), scope: 'test' };
    const sent = await sendNotification(ctx, { to: [{ userId: 'ann' }, { userId: 'ann' }], channels: ['sms', 'email', 'sms'], category: 'news', content: { sms: { body: 'x' }, email: { subject: 's', text: 't' } } });
    assert.deepEqual(sent.notifications.map((n) => n.channel).sort(), ['email', 'sms']);
  });
});
