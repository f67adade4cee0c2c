import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideNotification,
  evolveNotification,
  initialNotificationState,
  NotificationNotFoundError,
  NotificationNotCancellableError,
  NotificationNotDeliveredError,
  type NotificationCommand,
  type NotificationEvent,
  type RequestData,
  type DeliveryOutcome,
} from '../../src/domain/notification.ts';

const now = '2026-11-23T10:00:00.000Z';
const retryAt = '2026-11-23T10:00:05.000Z';
const request: RequestData = { notificationId: 'n1', userId: 'u1', channel: 'push', category: 'news', content: { push: { title: 't', body: 'b' } }, routes: ['apns', 'fcm'], priority: 'normal' };
const given = (events: NotificationEvent[]) => events.reduce(evolveNotification, initialNotificationState());
const when = (events: NotificationEvent[], command: NotificationCommand) => decideNotification(command, given(events), now);
const requested: NotificationEvent = { type: 'NotificationRequested', data: { ...request, at: now } };
const sentOn = (route: 'apns' | 'fcm'): NotificationEvent => ({ type: 'NotificationSent', data: { notificationId: 'n1', route, provider: 'sandbox', deliveries: [{ to: 'tok…', providerMessageId: 'm' }], rejected: [], at: now } });
const sent: DeliveryOutcome = { kind: 'sent', provider: 'sandbox', deliveries: [{ to: 'x', providerMessageId: 'm' }], rejected: [] };
const failed: DeliveryOutcome = { kind: 'failed', provider: 'sandbox', reason: 'unregistered_token', permanent: true, rejected: [] };

describe('notification decider', () => {
  it('given nothing, when requested with routes, then NotificationRequested', () => {
    assert.deepEqual(when([], { type: 'RequestNotification', data: request }), [requested]);
  });

  it('given nothing, when requested with no route, then requested and suppressed for no address', () => {
    const events = when([], { type: 'RequestNotification', data: { ...request, routes: [] } });
    assert.deepEqual(events.map((e) => e.type), ['NotificationRequested', 'NotificationSuppressed']);
    const state = given(events);
    assert.equal(state.exists && state.status, 'suppressed');
  });

  it('given requested, when requested again, then nothing', () => {
    assert.deepEqual(when([requested], { type: 'RequestNotification', data: request }), []);
  });

  it('given requested, when one route is sent, then sent on that route and status sent', () => {
    const events = when([requested], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 3, retryAt, outcome: sent } });
    assert.equal(events[0]?.type, 'NotificationSent');
    const state = given([requested, ...events]);
    assert.ok(state.exists);
    assert.equal(state.status, 'sent');
    assert.deepEqual(Object.fromEntries(Object.entries(state.routes).map(([r, p]) => [r, p.state])), { apns: 'sent', fcm: 'pending' });
  });

  it('given a route already sent, when its delivery is recorded again (redelivery), then nothing', () => {
    assert.deepEqual(when([requested, sentOn('apns')], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 3, retryAt, outcome: sent } }), []);
  });

  it('given every route failed, then the status is failed', () => {
    const first = when([requested], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 3, retryAt, outcome: failed } });
    const second = when([requested, ...first], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'fcm', attempt: 1, maxAttempts: 3, retryAt, outcome: failed } });
    const state = given([requested, ...first, ...second]);
    assert.equal(state.exists && state.status, 'failed');
  });

  it('given one route failed and one sent, then the status is sent', () => {
    const failEvent = when([requested], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 3, retryAt, outcome: failed } });
    const state = given([requested, ...failEvent, sentOn('fcm')]);
    assert.equal(state.exists && state.status, 'sent');
  });

  it('given nothing, when a delivery or an open is recorded, then not found', () => {
    assert.throws(() => when([], { type: 'RecordOpen', data: { notificationId: 'n1' } }), NotificationNotFoundError);
    assert.throws(() => when([], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'sms', attempt: 1, maxAttempts: 3, retryAt, outcome: sent } }), NotificationNotFoundError);
  });

  it('given a transient failure with attempts left, then DeliveryAttemptFailed with the retry time; the last attempt fails for good', () => {
    const transient: DeliveryOutcome = { kind: 'failed', provider: 'p', reason: 'http_503', permanent: false, rejected: [] };
    const first = when([requested], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 2, retryAt, outcome: transient } });
    assert.deepEqual(first.map((e) => [e.type, 'retryAt' in e.data ? e.data.retryAt : null]), [['DeliveryAttemptFailed', retryAt]]);
    assert.deepEqual(when([requested, ...first], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 2, retryAt, outcome: transient } }), [], 'the same attempt recorded twice');
    const due = when([requested, ...first], { type: 'MarkDue', data: { notificationId: 'n1', route: 'apns', attempt: 2 } });
    assert.deepEqual(due.map((e) => e.type), ['DeliveryDue']);
    assert.deepEqual(when([requested, ...first, ...due], { type: 'MarkDue', data: { notificationId: 'n1', route: 'apns', attempt: 2 } }), [], 'made due once');
    const last = when([requested, ...first, ...due], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 2, maxAttempts: 2, retryAt, outcome: transient } });
    assert.deepEqual(last.map((e) => [e.type, 'attempts' in e.data ? e.data.attempts : null]), [['NotificationFailed', 2]]);
  });

  it('given a permanent failure, then NotificationFailed at once; redrive sends the route back to pending', () => {
    const failedEvents = when([requested], { type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 5, retryAt, outcome: failed } });
    assert.deepEqual(failedEvents.map((e) => e.type), ['NotificationFailed']);
    const redriven = when([requested, ...failedEvents], { type: 'Redrive', data: { notificationId: 'n1', route: 'apns' } });
    assert.deepEqual(redriven.map((e) => e.type), ['DeliveryRedriven']);
    const state = given([requested, ...failedEvents, ...redriven]);
    assert.equal(state.exists && state.routes.apns?.state, 'pending');
    assert.deepEqual(when([requested], { type: 'Redrive', data: { notificationId: 'n1', route: 'apns' } }), [], 'nothing to redrive');
  });

  it('given a scheduled notification, it can be cancelled once; a sent one cannot', () => {
    const scheduled: NotificationEvent = { type: 'NotificationRequested', data: { ...request, sendAt: '2026-11-24T00:00:00.000Z', at: now } };
    const state = given([scheduled]);
    assert.equal(state.exists && state.status, 'scheduled');
    const cancelled = when([scheduled], { type: 'Cancel', data: { notificationId: 'n1' } });
    assert.deepEqual(cancelled.map((e) => e.type), ['NotificationCancelled']);
    assert.deepEqual(when([scheduled, ...cancelled], { type: 'Cancel', data: { notificationId: 'n1' } }), []);
    assert.deepEqual(when([scheduled, ...cancelled], { type: 'MarkDue', data: { notificationId: 'n1', route: 'apns', attempt: 1 } }), []);
    assert.throws(() => when([requested, sentOn('apns')], { type: 'Cancel', data: { notificationId: 'n1' } }), NotificationNotCancellableError);
  });

  it('cancelled while a worker already had it in hand: a send that went out is recorded all the same, a failure is not retried', () => {
    const cancelled: NotificationEvent = { type: 'NotificationCancelled', data: { notificationId: 'n1', at: now } };
    const record = (outcome: DeliveryOutcome): NotificationCommand => ({ type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 5, retryAt, outcome } });
    const recorded = when([requested, cancelled], record(sent));
    assert.deepEqual(recorded.map((e) => e.type), ['NotificationSent']);
    const state = given([requested, cancelled, ...recorded]);
    assert.deepEqual(state.exists && [state.status, state.routes.apns?.state], ['cancelled', 'sent'], 'still cancelled, its route shows the send');
    assert.deepEqual(when([requested, cancelled], record({ ...failed, permanent: false })), [], 'no retry of a cancelled notification');
    assert.deepEqual(when([requested, cancelled, ...recorded], record(sent)), [], 'recorded once');
  });

  it('given opened, when opened again, then nothing', () => {
    const opened = when([requested], { type: 'RecordOpen', data: { notificationId: 'n1' } });
    assert.deepEqual(opened.map((e) => e.type), ['NotificationOpened']);
    assert.deepEqual(when([requested, ...opened], { type: 'RecordOpen', data: { notificationId: 'n1' } }), []);
  });

  it('an app may report opened or clicked one that was sent or is on its way, not one that never reached anyone', () => {
    const open: NotificationCommand = { type: 'RecordOpen', data: { notificationId: 'n1' } };
    const appClick: NotificationCommand = { type: 'RecordTracking', data: { notificationId: 'n1', fact: { kind: 'clicked', source: 'app' } } };
    const failedOn = (route: 'apns' | 'fcm'): NotificationEvent => ({ type: 'NotificationFailed', data: { notificationId: 'n1', route, provider: 'sandbox', reason: 'unregistered_token', permanent: true, attempts: 1, rejected: [], at: now } });
    // In flight: a push can be on the phone before APNs' answer is recorded.
    assert.deepEqual(when([requested], open).map((e) => e.type), ['NotificationOpened']);
    assert.deepEqual(when([requested, sentOn('apns'), failedOn('fcm')], appClick).map((e) => e.type), ['NotificationClicked']);
    const never: [string, NotificationEvent[]][] = [
      ['suppressed', [requested, { type: 'NotificationSuppressed', data: { notificationId: 'n1', reason: 'channel_opted_out', at: now } }]],
      ['cancelled', [requested, { type: 'NotificationCancelled', data: { notificationId: 'n1', at: now } }]],
      ['failed', [requested, failedOn('apns'), failedOn('fcm')]],
      ['scheduled', [{ type: 'NotificationRequested', data: { ...request, sendAt: '2026-11-24T00:00:00.000Z', at: now } }]],
    ];
    for (const [status, events] of never) {
      assert.equal(given(events).exists && (given(events) as { status: string }).status, status);
      assert.throws(() => when(events, open), (e: unknown) => e instanceof NotificationNotDeliveredError && e.status === status, status);
      assert.throws(() => when(events, appClick), NotificationNotDeliveredError, status);
    }
    // A provider reports only what it was given; its facts are kept as they come.
    const [, suppressed] = never[0]!;
    assert.deepEqual(when(suppressed, { type: 'RecordTracking', data: { notificationId: 'n1', fact: { kind: 'delivered', source: 'twilio' } } }).map((e) => e.type), ['NotificationDelivered']);
  });
});

describe('suppressing a notification after its request (the user opted out meanwhile)', () => {
  const suppress: NotificationCommand = { type: 'Suppress', data: { notificationId: 'n1', reason: 'marketing_unsubscribed' } };

  it('suppresses one nothing has delivered yet, once', () => {
    const events = when([requested], suppress);
    assert.deepEqual(events, [{ type: 'NotificationSuppressed', data: { notificationId: 'n1', reason: 'marketing_unsubscribed', at: now } }]);
    const state = given([requested, ...events]);
    assert.equal(state.exists ? state.status : 'none', 'suppressed');
    assert.deepEqual(when([requested, ...events], suppress), []);
  });

  it('leaves alone one a route has delivered, or one cancelled', () => {
    assert.deepEqual(when([requested, sentOn('apns')], suppress), []);
    assert.deepEqual(when([requested, { type: 'NotificationCancelled', data: { notificationId: 'n1', at: now } }], suppress), []);
  });
});

describe('holding an attempt that came due inside the user\'s quiet hours', () => {
  const until = '2026-11-24T07:00:00.000Z';
  const hold = (attempt: number): NotificationCommand => ({ type: 'Hold', data: { notificationId: 'n1', route: 'apns', attempt, until } });
  const due = (attempt: number): NotificationEvent => ({ type: 'DeliveryDue', data: { notificationId: 'n1', route: 'apns', attempt, at: now } });
  const markDue = (attempt: number): NotificationCommand => ({ type: 'MarkDue', data: { notificationId: 'n1', route: 'apns', attempt } });
  const attemptFailed: NotificationEvent = { type: 'DeliveryAttemptFailed', data: { notificationId: 'n1', route: 'apns', provider: 'sandbox', attempt: 1, reason: 'unavailable', retryAt, rejected: [], at: now } };

  it('holds a retry once, scheduled; the same attempt can be made due again, and that lifts the hold', () => {
    const history = [requested, attemptFailed, due(2)];
    const held = when(history, hold(2));
    assert.deepEqual(held, [{ type: 'DeliveryHeld', data: { notificationId: 'n1', route: 'apns', attempt: 2, until, reason: 'quiet_hours', at: now } }]);
    const state = given([...history, ...held]);
    assert.equal(state.exists && state.status, 'scheduled');
    assert.equal(state.exists && state.routes.apns?.heldUntil, until);
    assert.deepEqual(when([...history, ...held], hold(2)), [], 'a redelivered event holds nothing twice');
    assert.deepEqual(when([...history, ...held], markDue(2)), [], 'not due again before the quiet hours end (a stale schedule entry)');
    const again = decideNotification(markDue(2), given([...history, ...held]), until);
    assert.deepEqual(again.map((e) => e.type), ['DeliveryDue']);
    const lifted = given([...history, ...held, ...again]);
    assert.deepEqual(lifted.exists && [lifted.status, lifted.routes.apns?.heldUntil, lifted.routes.fcm?.heldUntil], ['requested', undefined, undefined]);
  });

  it('holds nothing made already, sent, or cancelled', () => {
    assert.deepEqual(when([requested, attemptFailed], hold(1)), [], 'attempt 1 already ended');
    assert.deepEqual(when([requested, sentOn('apns')], hold(1)), []);
    assert.deepEqual(when([requested, { type: 'NotificationCancelled', data: { notificationId: 'n1', at: now } }], hold(1)), []);
  });
});

describe('retrying the devices a sent push did not reach', () => {
  const tablet = { to: 'bbbb…(64)', reason: 'provider_unavailable', tokenDigest: 'b'.repeat(64) };
  const watch = { to: 'cccc…(64)', reason: 'timeout', tokenDigest: 'c'.repeat(64) };
  const record = (attempt: number, outcome: DeliveryOutcome, maxAttempts = 3): NotificationCommand => ({ type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt, maxAttempts, retryAt, outcome } });
  const markDue = (attempt: number): NotificationCommand => ({ type: 'MarkDue', data: { notificationId: 'n1', route: 'apns', attempt } });
  const partly: DeliveryOutcome = { kind: 'sent', provider: 'apns', deliveries: [{ to: 'aaaa…(64)', providerMessageId: 'm1' }], rejected: [], unsent: [tablet, watch] };
  const reached = (to: string, id: string): DeliveryOutcome => ({ kind: 'sent', provider: 'apns', deliveries: [{ to, providerMessageId: id }], rejected: [] });
  const stillDown = (...unsent: typeof tablet[]): DeliveryOutcome => ({ kind: 'failed', provider: 'apns', reason: 'provider_unavailable', permanent: false, rejected: [], unsent });
  const sentPartly = when([requested], record(1, partly));
  const dueTwo = when([requested, ...sentPartly], markDue(2));

  it('a send that reached some devices is sent, and keeps a retry for the others at retryAt', () => {
    assert.deepEqual(sentPartly, [{ type: 'NotificationSent', data: { notificationId: 'n1', route: 'apns', provider: 'apns', attempt: 1, deliveries: partly.deliveries, rejected: [], unsent: [tablet, watch], retryAt, at: now } }]);
    const state = given([requested, ...sentPartly]);
    assert.ok(state.exists);
    assert.deepEqual([state.status, state.routes.apns?.state, state.routes.apns?.unsentDevices], ['sent', 'sent', { unsent: [tablet, watch], attempt: 1 }]);
    assert.deepEqual(dueTwo.map((e) => e.type), ['DeliveryDue'], 'made due as attempt 2, as a route retry would be');
    assert.deepEqual(when([requested, ...sentPartly, ...dueTwo], markDue(2)), [], 'made due once');
    assert.deepEqual(when([requested, ...sentPartly], markDue(3)), [], 'only the next attempt');
  });

  it('a retry that reaches them all ends it; recording that attempt again adds nothing', () => {
    const history = [requested, ...sentPartly, ...dueTwo];
    const both: DeliveryOutcome = { kind: 'sent', provider: 'apns', deliveries: [{ to: tablet.to, providerMessageId: 'm2' }, { to: watch.to, providerMessageId: 'm3' }], rejected: [] };
    const retried = when(history, record(2, both));
    assert.deepEqual(retried, [{ type: 'UnsentDevicesRetried', data: { notificationId: 'n1', route: 'apns', provider: 'apns', attempt: 2, deliveries: both.kind === 'sent' ? both.deliveries : [], rejected: [], unsent: [], at: now } }]);
    const state = given([...history, ...retried]);
    assert.deepEqual(state.exists && [state.status, state.routes.apns?.state, state.routes.apns?.unsentDevices], ['sent', 'sent', undefined]);
    assert.deepEqual(when([...history, ...retried], record(2, both)), [], 'a redelivered attempt is recorded once');
    assert.deepEqual(when([...history, ...retried], markDue(3)), [], 'nothing left to make due');
  });

  it('a device still failing for a passing reason is retried again until attempts run out; one that takes it is not tried again', () => {
    const history = [requested, ...sentPartly, ...dueTwo];
    const second = when(history, record(2, { ...reached(tablet.to, 'm2'), unsent: [watch] }));
    assert.deepEqual(second.map((e) => e.type === 'UnsentDevicesRetried' && [e.data.deliveries.length, e.data.unsent, e.data.retryAt]), [[1, [watch], retryAt]]);
    const afterSecond = given([...history, ...second]);
    assert.deepEqual(afterSecond.exists && afterSecond.routes.apns?.unsentDevices, { unsent: [watch], attempt: 2 });
    const dueThree = when([...history, ...second], markDue(3));
    assert.deepEqual(dueThree.map((e) => e.type), ['DeliveryDue']);
    const last = when([...history, ...second, ...dueThree], record(3, stillDown(watch)));
    assert.deepEqual(last.map((e) => e.type === 'UnsentDevicesRetried' && [e.data.deliveries.length, e.data.unsent, 'retryAt' in e.data]), [[0, [watch], false]], 'the last attempt allowed gives up on it, listing it');
    const ended = given([...history, ...second, ...dueThree, ...last]);
    assert.deepEqual(ended.exists && [ended.status, ended.routes.apns?.unsentDevices], ['sent', undefined]);
  });

  it('a device refused for good on retry ends with it rejected, not retried', () => {
    const refused: DeliveryOutcome = { kind: 'failed', provider: 'apns', reason: 'unregistered_token', permanent: true, rejected: [{ to: tablet.to, reason: 'unregistered_token' }, { to: watch.to, reason: 'unregistered_token' }] };
    const retried = when([requested, ...sentPartly, ...dueTwo], record(2, refused));
    assert.deepEqual(retried.map((e) => e.type === 'UnsentDevicesRetried' && [e.data.rejected.length, e.data.unsent, 'retryAt' in e.data]), [[2, [], false]]);
  });

  it('an attempt that sends nothing (expired, or no unsent device is the user\'s any more) ends it, listing them with that reason', () => {
    const expired: DeliveryOutcome = { kind: 'failed', provider: 'apns', reason: 'expired', permanent: true, rejected: [] };
    const retried = when([requested, ...sentPartly, ...dueTwo], record(2, expired, 2));
    assert.deepEqual(retried.map((e) => e.type === 'UnsentDevicesRetried' && [e.data.unsent.map((u) => u.reason), 'retryAt' in e.data]), [[['expired', 'expired'], false]]);
  });

  it('no retry when the send used the last attempt, when the notification was cancelled meanwhile, or for an event from before device retries', () => {
    assert.equal(when([requested], record(3, partly)).some((e) => 'retryAt' in e.data), false, 'the last attempt');
    const cancelled: NotificationEvent = { type: 'NotificationCancelled', data: { notificationId: 'n1', at: now } };
    assert.equal(when([requested, cancelled], record(1, partly)).some((e) => 'retryAt' in e.data), false, 'cancelled while in hand');
    const older: NotificationEvent = { type: 'NotificationSent', data: { notificationId: 'n1', route: 'apns', provider: 'apns', attempt: 1, deliveries: [], rejected: [], unsent: [{ to: 'bbbb…(64)', reason: 'timeout' }], at: now } };
    const state = given([requested, older]);
    assert.equal(state.exists && state.routes.apns?.unsentDevices, undefined);
    assert.deepEqual(when([requested, older], markDue(2)), []);
    assert.deepEqual(when([requested, older], record(2, reached(tablet.to, 'm2'))), [], 'nothing waits for attempt 2');
  });

  it('a device retry due inside quiet hours is held once, and due again when they end', () => {
    const until = '2026-11-24T07:00:00.000Z';
    const hold: NotificationCommand = { type: 'Hold', data: { notificationId: 'n1', route: 'apns', attempt: 2, until } };
    const history = [requested, ...sentPartly, ...dueTwo];
    const held = when(history, hold);
    assert.deepEqual(held.map((e) => e.type), ['DeliveryHeld']);
    const state = given([...history, ...held]);
    assert.deepEqual(state.exists && [state.status, state.routes.apns?.heldUntil], ['sent', until], 'still sent: it reached the user');
    assert.deepEqual(when([...history, ...held], hold), []);
    assert.deepEqual(decideNotification(markDue(2), state, until).map((e) => e.type), ['DeliveryDue']);
  });
});
