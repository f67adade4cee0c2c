import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decideNotification, evolveNotification, initialNotificationState, nextAttempt, type DeliveryOutcome, type NotificationCommand, type NotificationEvent, type RequestData } from '../../src/domain/notification.ts';
import { MAX_RESENDS, resendFloorMs } from '../../src/domain/resend.ts';
import { evolveSchedule } from '../../src/projections/schedule.ts';
import { passingUndelivered } from '../../src/tracking/providerFacts.ts';

const now = '2026-11-29T10:00:00.000Z';
const retryAt = '2026-11-29T10:00:02.000Z';
const request: RequestData = { notificationId: 'n1', userId: 'u1', channel: 'sms', category: 'news', content: { sms: { body: 'b' } }, routes: ['sms'], priority: 'normal' };
const given = (events: NotificationEvent[]) => events.reduce(evolveNotification, initialNotificationState());
const when = (events: NotificationEvent[], command: NotificationCommand) => decideNotification(command, given(events), now);
const requested: NotificationEvent = { type: 'NotificationRequested', data: { ...request, at: now } };
const sentAs = (sid: string, attempt = 1): NotificationEvent => ({ type: 'NotificationSent', data: { notificationId: 'n1', route: 'sms', provider: 'twilio', attempt, deliveries: [{ to: '***0123', providerMessageId: sid }], rejected: [], at: now } });
const fact = (sid: string) => ({ source: 'twilio' as const, providerEventId: `${sid}:undelivered`, kind: 'undelivered' as const, reason: 'twilio_30003' });
/** Twilio's report on message `sid`, with the resend the tracking layer worked out for it. */
const report = (sid: string, maxAttempts = 10): NotificationCommand => ({ type: 'RecordTracking', data: { notificationId: 'n1', fact: fact(sid), resend: { providerMessageId: sid, reason: 'twilio_30003', maxAttempts, retryAt } } });
/** What a report decided about the route (the tracking fact aside). */
const acted = (events: NotificationEvent[]) => events.filter((e) => e.type === 'MessageUndelivered');
const record = (attempt: number, outcome: DeliveryOutcome, maxAttempts = 10): NotificationCommand => ({ type: 'RecordDelivery', data: { notificationId: 'n1', route: 'sms', attempt, maxAttempts, retryAt, outcome } });
const sent = (sid: string): DeliveryOutcome => ({ kind: 'sent', provider: 'twilio', deliveries: [{ to: '***0123', providerMessageId: sid }], rejected: [] });

describe('sending an SMS again after Twilio reported it undelivered for a passing reason', () => {
  it('a report on the latest message is recorded and schedules the route again, as the next attempt, at retryAt, in one decision', () => {
    const events = when([requested, sentAs('SM1')], report('SM1'));
    assert.deepEqual(events, [
      { type: 'NotificationUndelivered', data: { notificationId: 'n1', source: 'twilio', providerEventId: 'SM1:undelivered', reason: 'twilio_30003', at: now } },
      { type: 'MessageUndelivered', data: { notificationId: 'n1', route: 'sms', attempt: 1, reason: 'twilio_30003', providerMessageId: 'SM1', retryAt, at: now } },
    ]);
    const state = given([requested, sentAs('SM1'), ...events]);
    assert.ok(state.exists);
    assert.equal(state.status, 'sent');
    assert.equal(nextAttempt(state.routes.sms), 2);
    const doc = [requested, sentAs('SM1'), ...events].reduce((d, e) => evolveSchedule(d, e as never), null as ReturnType<typeof evolveSchedule>);
    assert.deepEqual(doc?.due, [{ route: 'sms', attempt: 2, dueAt: retryAt }]);
  });

  it('a repeated report (a retried callback, or `failed` after `undelivered`) schedules nothing more', () => {
    const first = when([requested, sentAs('SM1')], report('SM1'));
    assert.deepEqual(when([requested, sentAs('SM1'), ...first], report('SM1')), []);
  });

  it('a report on an older message schedules nothing; the resend\'s own message is the one that counts', () => {
    const first = when([requested, sentAs('SM1')], report('SM1'));
    const resent = when([requested, sentAs('SM1'), ...first], record(2, sent('SM2')));
    assert.equal(resent[0]?.type, 'NotificationSent');
    const history = [requested, sentAs('SM1'), ...first, ...resent];
    assert.deepEqual(when(history, report('SM1')), []);
    assert.deepEqual(when(history, report('SM2')).map((e) => [e.type, (e.data as { attempt: number }).attempt, (e.data as { retryAt?: string }).retryAt]), [['MessageUndelivered', 2, retryAt]]);
    // The resend is recorded once: a redelivered job for attempt 2 adds nothing.
    assert.deepEqual(when(history, record(2, sent('SM3'))), []);
  });

  it('a log whose report was kept without its resend (two appends, before 2026-11-29) is acted on by the next report; without resend terms a report only records', () => {
    const keptAlone: NotificationEvent = { type: 'NotificationUndelivered', data: { notificationId: 'n1', source: 'twilio', providerEventId: 'SM1:undelivered', reason: 'twilio_30003', at: now } };
    assert.deepEqual(when([requested, sentAs('SM1'), keptAlone], report('SM1')).map((e) => e.type), ['MessageUndelivered']);
    const recordOnly: NotificationCommand = { type: 'RecordTracking', data: { notificationId: 'n1', fact: fact('SM1') } };
    assert.deepEqual(when([requested, sentAs('SM1')], recordOnly).map((e) => e.type), ['NotificationUndelivered']);
  });

  it('with no attempts left it is given up: recorded without a retry time, nothing scheduled', () => {
    const events = when([requested, sentAs('SM1', 3)], report('SM1', 3));
    assert.equal(acted(events).length, 1);
    assert.equal((acted(events)[0]!.data as { retryAt?: string }).retryAt, undefined);
    const state = given([requested, sentAs('SM1', 3), ...events]);
    assert.equal(state.exists && nextAttempt(state.routes.sms), undefined);
  });

  it('a resend that fails for a passing reason is tried again; one not made (opted out since) is given up', () => {
    const first = when([requested, sentAs('SM1')], report('SM1'));
    const timeout = when([requested, sentAs('SM1'), ...first], record(2, { kind: 'failed', provider: 'twilio', reason: 'timeout', permanent: false, rejected: [] }));
    assert.deepEqual(timeout.map((e) => [e.type, (e.data as { attempt: number }).attempt, (e.data as { retryAt?: string }).retryAt]), [['MessageUndelivered', 2, retryAt]]);
    const optedOut = when([requested, sentAs('SM1'), ...first, ...timeout], record(3, { kind: 'failed', provider: 'twilio', reason: 'channel_opted_out', permanent: true, rejected: [] }));
    assert.deepEqual(optedOut.map((e) => [e.type, (e.data as { reason: string }).reason, (e.data as { retryAt?: string }).retryAt]), [['MessageUndelivered', 'channel_opted_out', undefined]]);
    const state = given([requested, sentAs('SM1'), ...first, ...timeout, ...optedOut]);
    assert.ok(state.exists);
    assert.equal(state.routes.sms?.state, 'sent');
    assert.equal(nextAttempt(state.routes.sms), undefined);
  });

  it(`at most ${MAX_RESENDS} resends, however many attempts are left: a handset off for hours gets no message per attempt`, () => {
    let history = [requested, sentAs('SM1')];
    for (let n = 1; n <= MAX_RESENDS; n++) {
      const reported = when(history, report(`SM${n}`));
      assert.equal((acted(reported)[0]?.data as { retryAt?: string }).retryAt, retryAt, `resend ${n} scheduled`);
      history = [...history, ...reported, ...when([...history, ...reported], record(n + 1, sent(`SM${n + 1}`)))];
    }
    const last = when(history, report(`SM${MAX_RESENDS + 1}`));
    assert.deepEqual(last.map((e) => [e.type, (e.data as { retryAt?: string }).retryAt]), [['MessageUndelivered', undefined]]);
    const state = given([...history, ...last]);
    assert.equal(state.exists && nextAttempt(state.routes.sms), undefined);
  });

  it('a resend that would come due past the notification\'s expiry is given up at once', () => {
    const expiring: NotificationEvent = { type: 'NotificationRequested', data: { ...request, expiresAt: '2026-11-29T10:00:01.000Z', at: now } };
    const events = acted(when([expiring, sentAs('SM1')], report('SM1')));
    assert.deepEqual(events.map((e) => [e.type, (e.data as { retryAt?: string }).retryAt]), [['MessageUndelivered', undefined]]);
  });

  it('a resend waits at least the configured delay, the second ten times that', () => {
    assert.deepEqual([resendFloorMs(60_000, 0), resendFloorMs(60_000, 1)], [60_000, 600_000]);
  });

  it('only passing Twilio codes are resent: not blocked, filtered, unregistered sender, opt-out codes or unknown ones', () => {
    const fact = (reason: string) => ({ source: 'twilio' as const, kind: 'undelivered' as const, reason });
    for (const code of ['30001', '30003', '30008', '30017', '30500']) assert.equal(passingUndelivered('twilio', fact(`twilio_${code}`)), true, code);
    for (const code of ['30004', '30005', '30006', '30007', '30034', '21610', '39999']) assert.equal(passingUndelivered('twilio', fact(`twilio_${code}`)), false, code);
    assert.equal(passingUndelivered('twilio', fact('undelivered')), false);
    assert.equal(passingUndelivered('sendgrid', fact('twilio_30003')), false);
  });
});
