import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { loadUser, registerDevice } from '../../src/commands/users.ts';
import type { EventStore } from '../../src/ports/eventStore.ts';

const token = `fcm-token:APA91bH${'r'.repeat(140)}`;

describe('a device taken by another user while its owner registers it again', () => {
  it('ends with one holder: the owner\'s renewed claim and the taker\'s claim cannot both stand', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-claim-race-'));
    const store = new SqliteEventStore(join(dir, 'e.db'));
    const ctx = { store, now: () => new Date() };
    try {
      await registerDevice(ctx, { userId: 'ada', token, platform: 'android' });
      // Bob takes the phone: by the time his claim is appended he has removed it from Ada and
      // registered it for himself. Right then Ada's app registers it again (it launched on her
      // tablet's restore, say), from start to end: her registration adds it back.
      let interleaved = false;
      const bobsStore = new Proxy(store, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (key !== 'append' || typeof value !== 'function') return value;
          return async (stream: string, ...rest: unknown[]) => {
            if (stream.startsWith('device-') && !interleaved) {
              interleaved = true;
              await registerDevice(ctx, { userId: 'ada', token, platform: 'android' });
            }
            return (value as (...args: unknown[]) => unknown).call(target, stream, ...rest);
          };
        },
      }) as EventStore;
      await registerDevice({ store: bobsStore, now: () => new Date() }, { userId: 'bob', token, platform: 'android' });
      assert.ok(interleaved);
      const holders = (await Promise.all(['ada', 'bob'].map(async (u) => ((await loadUser(store, u)).devices.some((d) => d.token === token) ? u : undefined)))).filter(Boolean);
      assert.deepEqual(holders, ['bob'], 'the last claim wins, and only its user holds the device');
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
