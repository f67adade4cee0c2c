import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppExistsError, AppNotFoundError, AppRevokedError, decideApp, evolveApp, initialAppState, type AppCommand, type AppEvent } from '../../src/domain/app.ts';

const now = '2026-11-23T10:00:00.000Z';
const digest = (c: string) => c.repeat(64);
const given = (events: AppEvent[]) => events.reduce(evolveApp, initialAppState());
const when = (events: AppEvent[], command: AppCommand, at = now) => decideApp(command, given(events), at);
const created: AppEvent = { type: 'AppCreated', data: { appId: 'a1', name: 'shop', scopes: ['read', 'send'], keyId: 'ak_1', sha256: digest('1'), at: now } };
const rotate = (keyId: string, graceSeconds: number): AppCommand => ({ type: 'RotateAppKey', data: { appId: 'a1', keyId, sha256: digest(keyId.slice(-1)), graceSeconds } });

describe('app decider', () => {
  it('given nothing, when created, then AppCreated with one current key; creating twice is refused', () => {
    const events = when([], { type: 'CreateApp', data: { appId: 'a1', name: 'shop', scopes: ['send'], keyId: 'ak_1', sha256: digest('1') } });
    assert.deepEqual(events.map((e) => e.type), ['AppCreated']);
    assert.deepEqual(given(events).keys, [{ keyId: 'ak_1', sha256: digest('1') }]);
    assert.throws(() => when(events, { type: 'CreateApp', data: { appId: 'a1', name: 'x', scopes: [], keyId: 'ak_2', sha256: digest('2') } }), AppExistsError);
  });

  it('given an app, when its key is rotated, then the old key ends after the grace period and the new one is current', () => {
    const [rotated] = when([created], rotate('ak_2', 3600));
    assert.deepEqual(rotated, { type: 'AppKeyRotated', data: { appId: 'a1', keyId: 'ak_2', sha256: digest('2'), previousKeyId: 'ak_1', previousValidUntil: '2026-11-23T11:00:00.000Z', at: now } });
    assert.deepEqual(given([created, rotated]).keys, [
      { keyId: 'ak_1', sha256: digest('1'), validUntil: '2026-11-23T11:00:00.000Z' },
      { keyId: 'ak_2', sha256: digest('2') },
    ]);
  });

  it('given a rotation long past, when rotated again, then the expired key is dropped from the state', () => {
    const [first] = when([created], rotate('ak_2', 60));
    const later = '2026-11-24T10:00:00.000Z';
    const [second] = when([created, first!], rotate('ak_3', 60), later);
    assert.deepEqual(given([created, first!, second!]).keys.map((k) => k.keyId), ['ak_2', 'ak_3']);
  });

  it('given a revoked app, then it has no keys, revoking again is a no-op and rotating is refused', () => {
    const revoked = when([created], { type: 'RevokeApp', data: { appId: 'a1' } });
    assert.deepEqual(revoked.map((e) => e.type), ['AppRevoked']);
    const state = given([created, ...revoked]);
    assert.deepEqual([state.revoked, state.keys], [true, []]);
    assert.deepEqual(when([created, ...revoked], { type: 'RevokeApp', data: { appId: 'a1' } }), []);
    assert.throws(() => when([created, ...revoked], rotate('ak_2', 0)), AppRevokedError);
  });

  it('given nothing, rotating or revoking names the missing app', () => {
    assert.throws(() => when([], rotate('ak_2', 0)), AppNotFoundError);
    assert.throws(() => when([], { type: 'RevokeApp', data: { appId: 'a1' } }), AppNotFoundError);
  });
});
