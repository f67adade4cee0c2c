import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserEvent } from '../../src/domain/user.ts';
import { addressesFor, routesFor } from '../../src/domain/userAddresses.ts';
import { decideDevice, evolveDevice, initialDeviceState, type DeviceClaimedEvent } from '../../src/domain/device.ts';
import { applyPreferencesPatch, defaultPreferences, MAX_CATEGORY_CHOICES, TooManyCategoryChoicesError } from '../../src/domain/preferences.ts';

const now = '2026-11-23T10:00:00.000Z';
const given = (events: UserEvent[]) => events.reduce(evolveUser, initialUserState());
const when = (events: UserEvent[], command: UserCommand) => decideUser(command, given(events), now);
const profile: UserEvent = { type: 'UserProfileUpdated', data: { userId: 'u1', email: 'a@example.com', phone: '+14155550123', at: now } };
const ios: UserEvent = { type: 'DeviceRegistered', data: { userId: 'u1', token: 'ios-token-1', platform: 'ios', at: now } };
const web: UserEvent = { type: 'DeviceRegistered', data: { userId: 'u1', token: 'web-token-1', platform: 'web', at: now } };
const tokenOf = (e: UserEvent) => ('token' in e.data ? e.data.token : undefined);

describe('user decider', () => {
  it('given nothing, when the profile is set, then UserProfileUpdated', () => {
    assert.deepEqual(when([], { type: 'UpdateProfile', data: { userId: 'u1', email: 'a@example.com' } }).map((e) => e.type), ['UserProfileUpdated']);
  });

  it('given a profile, when the same values are set again, then nothing', () => {
    assert.deepEqual(when([profile], { type: 'UpdateProfile', data: { userId: 'u1', email: 'a@example.com' } }), []);
  });

  it('given a device, when registered again unchanged, then nothing; when removed, then DeviceRemoved', () => {
    assert.deepEqual(when([ios], { type: 'RegisterDevice', data: { userId: 'u1', token: 'ios-token-1', platform: 'ios' } }), []);
    assert.deepEqual(when([ios], { type: 'RemoveDevice', data: { userId: 'u1', token: 'ios-token-1' } }).map((e) => e.type), ['DeviceRemoved']);
    assert.deepEqual(when([], { type: 'RemoveDevice', data: { userId: 'u1', token: 'ios-token-1' } }), []);
  });

  it('an APNs token is one device whatever the letter case of its hex; an FCM token is case-sensitive', () => {
    const upper: UserEvent = { type: 'DeviceRegistered', data: { userId: 'u1', token: 'A1B2C3', platform: 'ios', at: now } };
    const again = when([upper], { type: 'RegisterDevice', data: { userId: 'u1', token: 'a1b2c3', platform: 'ios' } });
    assert.deepEqual(again.map((e) => [e.type, tokenOf(e)]), [['DeviceRemoved', 'A1B2C3'], ['DeviceRegistered', 'a1b2c3']], 'the capitals are replaced, not kept beside');
    assert.deepEqual(given([upper, ...again]).devices.map((d) => d.token), ['a1b2c3']);
    assert.deepEqual(when([upper], { type: 'RemoveDevice', data: { userId: 'u1', token: 'a1b2c3' } }).map((e) => [e.type, tokenOf(e)]), [['DeviceRemoved', 'A1B2C3']]);
    assert.deepEqual(when([upper], { type: 'InvalidateDeviceToken', data: { userId: 'u1', token: 'a1b2c3', reason: 'unregistered_token' } }).map(tokenOf), ['A1B2C3']);
    const fcm: UserEvent = { type: 'DeviceRegistered', data: { userId: 'u1', token: 'Fcm-Token', platform: 'android', at: now } };
    assert.deepEqual(when([fcm], { type: 'RemoveDevice', data: { userId: 'u1', token: 'fcm-token' } }), []);
    assert.deepEqual(when([fcm], { type: 'RegisterDevice', data: { userId: 'u1', token: 'fcm-token', platform: 'android' } }).map((e) => e.type), ['DeviceRegistered']);
  });

  it('given a user at the device limit, when another device registers, then the invalidated go first, then the longest registered', () => {
    const device = (token: string): UserEvent => ({ type: 'DeviceRegistered', data: { userId: 'u1', token, platform: 'android', at: now } });
    const register = (token: string, maxDevices = 3): UserCommand => ({ type: 'RegisterDevice', data: { userId: 'u1', token, platform: 'android' }, maxDevices });
    const removed = (events: UserEvent[]) => events.filter((e) => e.type === 'DeviceRemoved').map((e) => [tokenOf(e), 'reason' in e.data ? e.data.reason : undefined]);
    // t1 registered again after t2 and t3 (an event: its platform or app changed): t2 is now the longest registered.
    const history = [device('t1'), device('t2'), device('t3'), device('t1')];
    assert.deepEqual(removed(when(history, register('t4'))), [['t2', 'device_limit']]);
    const invalidated: UserEvent = { type: 'DeviceTokenInvalidated', data: { userId: 'u1', token: 't3', reason: 'unregistered_token', at: now } };
    assert.deepEqual(removed(when([...history, invalidated], register('t4'))), [['t3', 'device_limit']], 'a dead token goes before a live one');
    const pushed = when(history, register('t4'));
    assert.deepEqual(given([...history, ...pushed]).devices.map((d) => d.token), ['t3', 't1', 't4']);
    // Under the limit, or a device it already holds: nothing is pushed out.
    assert.deepEqual(removed(when(history.slice(0, 2), register('t4'))), []);
    assert.deepEqual(when(history, register('t3')), []);
    // A lowered limit takes the surplus out with the next registration.
    assert.deepEqual(removed(when(history, register('t4', 1))), [['t2', 'device_limit'], ['t3', 'device_limit'], ['t1', 'device_limit']]);
    assert.deepEqual(removed(when(history, { type: 'RegisterDevice', data: { userId: 'u1', token: 't4', platform: 'android' } })), [], 'no limit given: none');
  });

  it('an empty app id is none: registering again with it decides nothing', () => {
    const blank: UserEvent = { type: 'DeviceRegistered', data: { userId: 'u1', token: 'fcm-token-1', platform: 'android', appId: '', at: now } };
    assert.equal(given([blank]).devices[0]!.appId, undefined);
    assert.deepEqual(when([blank], { type: 'RegisterDevice', data: { userId: 'u1', token: 'fcm-token-1', platform: 'android', appId: '' } }), []);
    assert.deepEqual(when([blank], { type: 'RegisterDevice', data: { userId: 'u1', token: 'fcm-token-1', platform: 'android' } }), []);
  });

  it('given a device registered a week ago or more, when registered again unchanged, then DeviceRegistered again: it is still in use', () => {
    const at = (daysAgo: number) => new Date(Date.parse(now) - daysAgo * 86_400_000).toISOString();
    const device = (token: string, daysAgo: number): UserEvent => ({ type: 'DeviceRegistered', data: { userId: 'u1', token, platform: 'android', at: at(daysAgo) } });
    const register = (token: string): UserCommand => ({ type: 'RegisterDevice', data: { userId: 'u1', token, platform: 'android' }, maxDevices: 2 });
    // The phone in use since the first day, and a browser used once since.
    const history = [device('phone', 30), device('browser', 6.9)];
    assert.deepEqual(when(history, register('browser')), [], 'registered under a week ago: nothing');
    const refreshed = when(history, register('phone'));
    assert.deepEqual(refreshed.map((e) => [e.type, tokenOf(e), e.data.at]), [['DeviceRegistered', 'phone', now]]);
    const state = given([...history, ...refreshed]);
    assert.deepEqual(state.devices.map((d) => [d.token, d.registeredAt]), [['browser', at(6.9)], ['phone', now]]);
    // So a new device at the limit pushes out the browser, not the phone.
    const pushed = decideUser(register('tablet'), state, now).filter((e) => e.type === 'DeviceRemoved').map(tokenOf);
    assert.deepEqual(pushed, ['browser']);
  });

  it('given an ios and a web device, push reaches APNs and FCM; an invalidated token is never used again', () => {
    assert.deepEqual(routesFor(given([profile, ios, web]), 'push'), ['apns', 'fcm']);
    const invalidated = when([ios, web], { type: 'InvalidateDeviceToken', data: { userId: 'u1', token: 'ios-token-1', reason: 'unregistered_token' } });
    assert.deepEqual(invalidated.map((e) => e.type), ['DeviceTokenInvalidated']);
    const state = given([profile, ios, web, ...invalidated]);
    assert.deepEqual(routesFor(state, 'push'), ['fcm']);
    assert.deepEqual(addressesFor(state, 'apns'), []);
    assert.deepEqual(when([ios, web, ...invalidated], { type: 'InvalidateDeviceToken', data: { userId: 'u1', token: 'ios-token-1', reason: 'again' } }), []);
  });

  it('sms and email reach the user only with a phone and an email', () => {
    assert.deepEqual(routesFor(given([]), 'sms'), []);
    assert.deepEqual(addressesFor(given([profile]), 'sms'), ['+14155550123']);
    assert.deepEqual(addressesFor(given([profile]), 'email'), ['a@example.com']);
  });
});

describe('a device belongs to one user at a time', () => {
  const digest = 'a'.repeat(64);
  const claim = (userId: string) => ({ type: 'ClaimDevice' as const, data: { tokenDigest: digest, userId } });
  const after = (events: DeviceClaimedEvent[]) => events.reduce(evolveDevice, initialDeviceState());

  it('the first claim names no one before; a claim by another user names the one it is taken from; the owner claiming again decides nothing', () => {
    const first = decideDevice(claim('ada'), initialDeviceState(), now);
    assert.deepEqual(first, [{ type: 'DeviceClaimed', data: { tokenDigest: digest, userId: 'ada', at: now } }]);
    assert.deepEqual(decideDevice(claim('ada'), after(first), now), []);
    const taken = decideDevice(claim('bob'), after(first), now);
    assert.deepEqual(taken.map((e) => [e.data.userId, e.data.previousUserId]), [['bob', 'ada']]);
    assert.equal(after([...first, ...taken]).owner, 'bob');
  });

  it('the owner renewing a claim (their registration changed) writes it again, naming no one before', () => {
    const first = decideDevice(claim('ada'), initialDeviceState(), now);
    assert.deepEqual(decideDevice({ ...claim('ada'), renew: true }, after(first), now), [{ type: 'DeviceClaimed', data: { tokenDigest: digest, userId: 'ada', at: now } }]);
  });
});

describe('a preferences patch (JSON merge patch)', () => {
  const base = { ...defaultPreferences(), channels: { sms: false }, categories: { news: false }, categoryChannels: { digest: { email: false, push: false } }, quietHours: { start: '22:00', end: '07:00' } };

  it('sets what it names, clears what it sets to null, keeps the rest; an emptied (category, channel) entry goes', () => {
    const patched = applyPreferencesPatch(base, { channels: { push: false, sms: null }, categories: { promo: false }, categoryChannels: { digest: { email: null, push: null } }, quietHours: null });
    assert.deepEqual(patched, { channels: { push: false }, categories: { news: false, promo: false }, categoryChannels: {}, marketing: true, quietHours: null });
    assert.deepEqual(applyPreferencesPatch(base, {}), base, 'an empty patch changes nothing');
  });

  it('is decided on the current preferences: no event when it changes nothing', () => {
    const set: UserEvent = { type: 'PreferencesUpdated', data: { userId: 'u1', preferences: base, at: now } };
    assert.deepEqual(when([profile, set], { type: 'PatchPreferences', data: { userId: 'u1', patch: { marketing: true, channels: { sms: false } } } }), []);
    const changed = when([profile, set], { type: 'PatchPreferences', data: { userId: 'u1', patch: { marketing: false } } });
    assert.deepEqual(changed.map((e) => e.type === 'PreferencesUpdated' && e.data.preferences.marketing), [false]);
  });

  it(`holds at most ${MAX_CATEGORY_CHOICES} category choices: a patch past it is refused, one that clears some is not`, () => {
    const many = (n: number, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${from + i}`, false]));
    const full: UserEvent = { type: 'PreferencesUpdated', data: { userId: 'u1', preferences: { ...defaultPreferences(), categories: many(MAX_CATEGORY_CHOICES) }, at: now } };
    assert.throws(() => when([profile, full], { type: 'PatchPreferences', data: { userId: 'u1', patch: { categories: { extra: false } } } }), TooManyCategoryChoicesError);
    assert.throws(() => when([profile], { type: 'SetPreferences', data: { userId: 'u1', preferences: { ...defaultPreferences(), categoryChannels: Object.fromEntries(Array.from({ length: MAX_CATEGORY_CHOICES + 1 }, (_, i) => [`c${i}`, { sms: false }])) } } }), TooManyCategoryChoicesError);
    // A user over the bound from before it existed can still change and clear choices.
    const over: UserEvent = { type: 'PreferencesUpdated', data: { userId: 'u1', preferences: { ...defaultPreferences(), categories: many(MAX_CATEGORY_CHOICES + 5) }, at: now } };
    const cleared = when([profile, over], { type: 'PatchPreferences', data: { userId: 'u1', patch: { categories: { c0: null, c1: null }, marketing: false } } });
    assert.equal(cleared.length, 1);
  });
});
