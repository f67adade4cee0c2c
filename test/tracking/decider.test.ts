import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideNotification, evolveNotification, initialNotificationState, NotificationNotFoundError, type NotificationCommand, type NotificationEvent, type RequestData } from '../../src/domain/notification.ts';
import type { TrackingFact } from '../../src/domain/tracking.ts';
import { optOutReasonOfRefusal } from '../../src/domain/contactOptOut.ts';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserEvent } from '../../src/domain/user.ts';
import { routesFor, addressesFor } from '../../src/domain/userAddresses.ts';

const now = '2026-11-23T10:00:00.000Z';
const request: RequestData = { notificationId: 'n1', userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', html: '<p>x</p>' } }, routes: ['email'], priority: 'normal' };
const requested: NotificationEvent = { type: 'NotificationRequested', data: { ...request, at: now } };
const given = (events: NotificationEvent[]) => events.reduce(evolveNotification, initialNotificationState());
const track = (fact: TrackingFact): NotificationCommand => ({ type: 'RecordTracking', data: { notificationId: 'n1', fact } });
/** Decides each command on the state the previous ones left, like the handler does. */
function run(commands: NotificationCommand[], history: NotificationEvent[] = [requested]): NotificationEvent[] {
  const all = [...history];
  const added: NotificationEvent[] = [];
  for (const c of commands) {
    const events = decideNotification(c, given(all), now);
    all.push(...events);
    added.push(...events);
  }
  return added;
}

describe('tracking on the notification decider', () => {
  it('given requested, when delivered is reported, then NotificationDelivered with its source', () => {
    assert.deepEqual(run([track({ kind: 'delivered', source: 'sendgrid', providerEventId: 'e1' })]), [
      { type: 'NotificationDelivered', data: { notificationId: 'n1', source: 'sendgrid', providerEventId: 'e1', at: now } },
    ]);
  });

  it('given the same provider event twice, then it is recorded once', () => {
    const fact: TrackingFact = { kind: 'clicked', source: 'sendgrid', providerEventId: 'e9', url: 'https://a.example' };
    assert.equal(run([track(fact), track(fact)]).length, 1);
  });

  it('given once-only facts reported again by another source, then nothing new', () => {
    const events = run([
      track({ kind: 'opened', source: 'email_pixel' }),
      track({ kind: 'opened', source: 'sendgrid', providerEventId: 'x' }),
      { type: 'RecordOpen', data: { notificationId: 'n1' } },
      track({ kind: 'delivered', source: 'twilio', providerEventId: 'SM1:delivered' }),
      track({ kind: 'delivered', source: 'twilio', providerEventId: 'SM1:delivered' }),
      track({ kind: 'spam', source: 'sendgrid' }),
      track({ kind: 'spam', source: 'sendgrid' }),
    ]);
    assert.deepEqual(events.map((e) => e.type), ['NotificationOpened', 'NotificationDelivered', 'NotificationMarkedAsSpam']);
  });

  it('given clicks on two URLs and one repeated, then one click per URL (unique clicks)', () => {
    const events = run([
      track({ kind: 'clicked', source: 'email_link', url: 'https://a.example' }),
      track({ kind: 'clicked', source: 'email_link', url: 'https://b.example' }),
      track({ kind: 'clicked', source: 'app', url: 'https://a.example' }),
    ]);
    assert.deepEqual(events.map((e) => (e.type === 'NotificationClicked' ? e.data.url : null)), ['https://a.example', 'https://b.example']);
  });

  it('given a soft bounce, then a hard bounce is still recorded; each kind once', () => {
    const events = run([
      track({ kind: 'bounced', source: 'sendgrid', bounce: 'soft', reason: 'mailbox full' }),
      track({ kind: 'bounced', source: 'sendgrid', bounce: 'soft' }),
      track({ kind: 'bounced', source: 'sendgrid', bounce: 'hard' }),
    ]);
    assert.deepEqual(events.map((e) => (e.type === 'NotificationBounced' ? e.data.bounce : null)), ['soft', 'hard']);
  });

  it('given an app open recorded with RecordOpen, then a pixel open adds nothing', () => {
    assert.deepEqual(run([track({ kind: 'opened', source: 'email_pixel' })], [requested, { type: 'NotificationOpened', data: { notificationId: 'n1', at: now } }]), []);
  });

  it('given no notification, when tracking is recorded, then NotificationNotFoundError', () => {
    assert.throws(() => decideNotification(track({ kind: 'delivered', source: 'app' }), initialNotificationState(), now), NotificationNotFoundError);
  });
});

describe('address opt-outs on the user decider', () => {
  const profile: UserEvent = { type: 'UserProfileUpdated', data: { userId: 'u1', email: 'Ada@Example.com', phone: '+14155550123', at: now } };
  const optOut = (channel: 'email' | 'sms', address: string): UserCommand => ({ type: 'OptOutContact', data: { userId: 'u1', channel, address, reason: channel === 'sms' ? 'stop_reply' : 'hard_bounce', source: 'test' } });
  const fold = (events: UserEvent[]) => events.reduce(evolveUser, initialUserState());

  it('given an opted-out email, then email has no route while SMS still has one', () => {
    const events = [profile, ...decideUser(optOut('email', 'ada@example.com'), fold([profile]), now)];
    assert.equal(events.length, 2);
    const state = fold(events);
    assert.deepEqual(routesFor(state, 'email'), []);
    assert.deepEqual(addressesFor(state, 'email'), []);
    assert.deepEqual(routesFor(state, 'sms'), ['sms']);
  });

  it('given the same address opted out twice, then the second adds nothing', () => {
    const once = [profile, ...decideUser(optOut('sms', '+14155550123'), fold([profile]), now)];
    assert.deepEqual(decideUser(optOut('sms', '+14155550123'), fold(once), now), []);
    assert.deepEqual(routesFor(fold(once), 'sms'), []);
  });

  it('given a new email after an opt-out, then the user is reachable again', () => {
    const events: UserEvent[] = [profile, ...decideUser(optOut('email', 'ada@example.com'), fold([profile]), now), { type: 'UserProfileUpdated', data: { userId: 'u1', email: 'ada@new.example', at: now } }];
    assert.deepEqual(routesFor(fold(events), 'email'), ['email']);
  });

  it('given an address the user has since replaced, then an opt-out of the old one records nothing', () => {
    const changed: UserEvent[] = [profile, { type: 'UserProfileUpdated', data: { userId: 'u1', phone: '+14155550199', email: 'ada@new.example', at: now } }];
    assert.deepEqual(decideUser(optOut('sms', '+14155550123'), fold(changed), now), []);
    assert.deepEqual(decideUser(optOut('email', 'ada@example.com'), fold(changed), now), []);
    assert.equal(decideUser(optOut('sms', '+14155550199'), fold(changed), now).length, 1);
    assert.equal(decideUser(optOut('email', 'Ada@New.Example'), fold(changed), now).length, 1, 'an email in any case');
  });

  it('given a provider\'s permanent refusal, then only an invalid address or a carrier opt-out says something about the address', () => {
    assert.equal(optOutReasonOfRefusal('sms', 'invalid_address'), 'invalid_address');
    assert.equal(optOutReasonOfRefusal('email', 'invalid_address'), 'invalid_address');
    assert.equal(optOutReasonOfRefusal('sms', 'unsubscribed'), 'carrier_opt_out');
    for (const refusal of ['blocked', 'invalid_content']) assert.equal(optOutReasonOfRefusal('sms', refusal), undefined, refusal);
    assert.equal(optOutReasonOfRefusal('email', 'unsubscribed'), undefined, 'a carrier opt-out is an SMS refusal');
  });

  it('given no user, then an opt-out records nothing', () => {
    assert.deepEqual(decideUser(optOut('email', 'x@example.com'), initialUserState(), now), []);
  });
});
