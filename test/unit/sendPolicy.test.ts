import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultCategory, type RateLimit } from '../../src/domain/category.ts';
import { defaultPreferences, quietHoursEnd, type Preferences } from '../../src/domain/preferences.ts';
import { decideChannel } from '../../src/domain/sendPolicy.ts';
import { decideSlot } from '../../src/domain/rateWindow.ts';

const now = new Date('2026-11-23T23:30:00.000Z');
const prefs = (p: Partial<Preferences>): Preferences => ({ ...defaultPreferences(), ...p });
const news = defaultCategory('news');
const promo = { ...defaultCategory('promo'), marketing: true };
const reset = { ...defaultCategory('password-reset'), transactional: true };

describe('send policy: preferences applied with the category', () => {
  it('given no preferences, then send', () => {
    assert.deepEqual(decideChannel(defaultPreferences(), news, 'sms', null, now), { kind: 'send' });
  });

  it('given a channel opt-out, then suppressed, even for a transactional category', () => {
    const p = prefs({ channels: { sms: false } });
    assert.deepEqual(decideChannel(p, news, 'sms', null, now), { kind: 'suppress', reason: 'channel_opted_out' });
    assert.deepEqual(decideChannel(p, reset, 'sms', null, now), { kind: 'suppress', reason: 'channel_opted_out' });
    assert.deepEqual(decideChannel(p, news, 'email', null, now), { kind: 'send' });
  });

  it('given a category opt-out, then suppressed, but a transactional category ignores it', () => {
    assert.deepEqual(decideChannel(prefs({ categories: { news: false } }), news, 'push', null, now), { kind: 'suppress', reason: 'category_opted_out' });
    assert.deepEqual(decideChannel(prefs({ categories: { 'password-reset': false } }), reset, 'push', null, now), { kind: 'send' });
  });

  it('given a (category, channel) opt-out, then only that pair is suppressed', () => {
    const p = prefs({ categoryChannels: { news: { email: false } } });
    assert.deepEqual(decideChannel(p, news, 'email', null, now), { kind: 'suppress', reason: 'category_opted_out' });
    assert.deepEqual(decideChannel(p, news, 'push', null, now), { kind: 'send' });
  });

  it('given an unsubscribe from all marketing, then marketing is suppressed and the rest is not', () => {
    const p = prefs({ marketing: false });
    assert.deepEqual(decideChannel(p, promo, 'email', null, now), { kind: 'suppress', reason: 'marketing_unsubscribed' });
    assert.deepEqual(decideChannel(p, news, 'email', null, now), { kind: 'send' });
  });

  it('given quiet hours in the user\'s time zone, then held until they end; transactional goes now', () => {
    const p = prefs({ quietHours: { start: '22:00', end: '07:00' } });
    // 23:30 UTC is 00:30 in Berlin (UTC+1 in November): inside 22:00–07:00, which ends at 06:00 UTC.
    assert.deepEqual(decideChannel(p, news, 'push', 'Europe/Berlin', now), { kind: 'hold', until: new Date('2026-11-24T06:00:00.000Z'), reason: 'quiet_hours' });
    assert.deepEqual(decideChannel(p, reset, 'push', 'Europe/Berlin', now), { kind: 'send' });
    // 23:30 UTC is 15:30 in Los Angeles: outside.
    assert.deepEqual(decideChannel(p, news, 'push', 'America/Los_Angeles', now), { kind: 'send' });
  });

  it('quiet hours within one day, and an empty window', () => {
    assert.equal(quietHoursEnd(new Date('2026-11-23T12:15:00Z'), 'UTC', { start: '12:00', end: '13:00' })?.toISOString(), '2026-11-23T13:00:00.000Z');
    assert.equal(quietHoursEnd(new Date('2026-11-23T13:00:00Z'), 'UTC', { start: '12:00', end: '13:00' }), null);
    assert.equal(quietHoursEnd(now, 'UTC', { start: '09:00', end: '09:00' }), null);
  });

  it('ends quiet hours at the local end time on the nights the clocks change, never an hour early', () => {
    const night = { start: '22:00', end: '07:00' };
    // Berlin, 23:00 CEST the night the clocks go back: 07:00 CET is 06:00 UTC (an hour early was 05:00).
    assert.equal(quietHoursEnd(new Date('2026-10-24T21:00:00Z'), 'Europe/Berlin', night)?.toISOString(), '2026-10-25T06:00:00.000Z');
    // 23:00 CET the night they go forward: 07:00 CEST is 05:00 UTC (an hour late was 06:00).
    assert.equal(quietHoursEnd(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', night)?.toISOString(), '2026-03-29T05:00:00.000Z');
    assert.equal(quietHoursEnd(new Date('2026-11-01T03:00:00Z'), 'America/New_York', night)?.toISOString(), '2026-11-01T12:00:00.000Z');
    // An end the clocks skip (02:30 does not exist that night): 03:30 CEST, late rather than early.
    assert.equal(quietHoursEnd(new Date('2026-03-28T22:00:00Z'), 'Europe/Berlin', { start: '22:00', end: '02:30' })?.toISOString(), '2026-03-29T01:30:00.000Z');
    assert.equal(quietHoursEnd(new Date('2026-11-23T22:00:00Z'), 'Europe/Berlin', night)?.toISOString(), '2026-11-24T06:00:00.000Z', 'an ordinary night');
  });
});

describe('rate windows', () => {
  const t = Date.parse('2026-11-23T10:30:00.000Z');
  const hour = 3600_000;
  const sliding: RateLimit = { max: 2, windowSeconds: 3600, window: 'sliding', overLimit: 'suppress', appliesToTransactional: false };
  const fixed: RateLimit = { ...sliding, window: 'fixed' };

  it('grants while fewer than max slots are in the window', () => {
    assert.deepEqual(decideSlot(t, sliding, [t - 10_000]), { kind: 'granted', at: t });
  });

  it('sliding: full when max slots fall in the last window; frees when the oldest ages out', () => {
    assert.deepEqual(decideSlot(t, sliding, [t - 0.9 * hour, t - 10_000]), { kind: 'full', nextFreeAt: t - 0.9 * hour + hour + 1 });
    assert.deepEqual(decideSlot(t, sliding, [t - 1.1 * hour, t - 10_000]), { kind: 'granted', at: t });
  });

  it('sliding: a slot taken for later counts in every window that would hold both', () => {
    const one = { ...sliding, max: 1 };
    assert.deepEqual(decideSlot(t, one, [t + 0.5 * hour]), { kind: 'full', nextFreeAt: t + 1.5 * hour + 1 });
    assert.deepEqual(decideSlot(t, one, [t + hour]), { kind: 'granted', at: t }, 'an hour apart, no window holds both');
    assert.deepEqual(decideSlot(t, sliding, [t - 0.5 * hour, t + 0.25 * hour]), { kind: 'full', nextFreeAt: t + 0.5 * hour + 1 }, 'the window ending at the later slot would hold three, until the earlier one has left it');
  });

  it('fixed: counts only this calendar window and frees at the next one', () => {
    const windowStart = Date.parse('2026-11-23T10:00:00.000Z');
    assert.deepEqual(decideSlot(t, fixed, [windowStart + 1000, windowStart + 2000]), { kind: 'full', nextFreeAt: windowStart + hour });
    assert.deepEqual(decideSlot(t, fixed, [windowStart - 1000, windowStart + 2000]), { kind: 'granted', at: t });
  });
});
