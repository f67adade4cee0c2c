import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AppNotFoundError, AppRevokedError, CallbackNotSetError, decideApp, evolveApp, initialAppState, type AppCommand, type AppEvent } from '../../src/domain/app.ts';
import { CALLBACK_OUTCOMES, callbackUrlProblem, InvalidCallbackUrlError, outcomeOf } from '../../src/domain/appCallback.ts';

const now = '2026-11-29T10:00:00.000Z';
const given = (events: AppEvent[]) => events.reduce(evolveApp, initialAppState());
const when = (events: AppEvent[], command: AppCommand, at = now) => decideApp(command, given(events), at);
const created: AppEvent = { type: 'AppCreated', data: { appId: 'a1', name: 'shop', scopes: ['send'], keyId: 'ak_1', sha256: '1'.repeat(64), at: now } };
const set = (url: string, events: (typeof CALLBACK_OUTCOMES)[number][] = []): AppCommand => ({ type: 'SetAppCallback', data: { appId: 'a1', url, events } });

describe('app decider: status callbacks', () => {
  it('given an app, when a callback is set, then AppCallbackSet with its outcomes sorted as listed and secret version 1', () => {
    const events = when([created], set('https://shop.example.com/herald', ['failed', 'sent', 'failed']));
    assert.deepEqual(events, [{ type: 'AppCallbackSet', data: { appId: 'a1', url: 'https://shop.example.com/herald', events: ['sent', 'failed'], secretVersion: 1, at: now } }]);
    assert.deepEqual(given([created, ...events]).callback, { url: 'https://shop.example.com/herald', events: ['sent', 'failed'] });
  });

  it('naming no outcome asks for all of them; setting the same callback again changes nothing', () => {
    const events = when([created], set('https://shop.example.com/herald'));
    assert.deepEqual((events[0]!.data as { events: string[] }).events, [...CALLBACK_OUTCOMES]);
    assert.deepEqual(when([created, ...events], set('https://shop.example.com/herald')), []);
  });

  it('refuses a URL that is not http(s), holds credentials or a fragment', () => {
    for (const url of ['ftp://shop.example.com/x', 'javascript:alert(1)', 'https://user:pw@shop.example.com/x', 'https://shop.example.com/x#frag', '/relative', 'not a url']) {
      assert.throws(() => when([created], set(url)), InvalidCallbackUrlError, url);
    }
    assert.equal(callbackUrlProblem('http://127.0.0.1:8080/hook?x=1'), undefined);
  });

  it('given no app or a revoked one, setting is refused; a revoked app loses its callback', () => {
    assert.throws(() => when([], set('https://a.example.com')), AppNotFoundError);
    const withCallback = [created, ...when([created], set('https://a.example.com'))];
    const revoked = [...withCallback, ...when(withCallback, { type: 'RevokeApp', data: { appId: 'a1' } })];
    assert.equal(given(revoked).callback, undefined);
    assert.throws(() => when(revoked, set('https://b.example.com')), AppRevokedError);
  });

  it('clearing removes the callback and is a no-op when none is set; the secret version is kept for the next set', () => {
    const first = [created, ...when([created], set('https://a.example.com'))];
    const rotated = [...first, ...when(first, { type: 'RotateCallbackSecret', data: { appId: 'a1' } })];
    const cleared = when(rotated, { type: 'ClearAppCallback', data: { appId: 'a1' } });
    assert.deepEqual(cleared, [{ type: 'AppCallbackCleared', data: { appId: 'a1', at: now } }]);
    assert.equal(given([...rotated, ...cleared]).callback, undefined);
    assert.deepEqual(when([...rotated, ...cleared], { type: 'ClearAppCallback', data: { appId: 'a1' } }), []);
    const again = when([...rotated, ...cleared], set('https://c.example.com'));
    assert.equal((again[0]!.data as { secretVersion: number }).secretVersion, 2, 'a secret once rotated away never comes back');
  });

  it('rotating the secret bumps its version; the previous one signs for a day more; without a callback it is refused', () => {
    const withCallback = [created, ...when([created], set('https://a.example.com'))];
    const rotated = when(withCallback, { type: 'RotateCallbackSecret', data: { appId: 'a1' } });
    assert.deepEqual(rotated, [{ type: 'AppCallbackSecretRotated', data: { appId: 'a1', secretVersion: 2, previousValidUntil: '2026-11-30T10:00:00.000Z', at: now } }]);
    const state = given([...withCallback, ...rotated]);
    assert.deepEqual([state.callbackSecretVersion, state.previousCallbackSecret], [2, { version: 1, validUntil: '2026-11-30T10:00:00.000Z' }]);
    assert.throws(() => when([created], { type: 'RotateCallbackSecret', data: { appId: 'a1' } }), CallbackNotSetError);
  });

  it('maps outcomes: an expiry is its own outcome, intermediate steps make no callback', () => {
    const ref = { notificationId: 'n1', at: now };
    assert.equal(outcomeOf({ type: 'NotificationSuppressed', data: { ...ref, reason: 'expired' } }), 'expired');
    assert.equal(outcomeOf({ type: 'NotificationSuppressed', data: { ...ref, reason: 'channel_opted_out' } }), 'suppressed');
    assert.equal(outcomeOf({ type: 'NotificationMarkedAsSpam', data: { ...ref, source: 'sendgrid' } }), 'spam_reported');
    assert.equal(outcomeOf({ type: 'DeliveryDue', data: { ...ref, route: 'email', attempt: 2 } }), undefined);
  });
});
