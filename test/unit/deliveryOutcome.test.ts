import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DeliveryMessage, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import { outcomeOf } from '../../src/processors/deliveryOutcome.ts';
import { decideNotification, evolveNotification, initialNotificationState, type NotificationEvent } from '../../src/domain/notification.ts';

const push = (to: string): DeliveryMessage => ({ route: 'apns', notificationId: 'n1', to, content: { title: 't', body: 'b' }, priority: 'normal' });
const phone = 'a'.repeat(64);
const tablet = 'b'.repeat(64);
const old = 'c'.repeat(64);

describe('a push to several of a user\'s devices, folded into one outcome', () => {
  it('reached one while another failed for a passing reason: sent, and the other is recorded as unsent (masked), not lost from view', () => {
    const results: DeliveryResult[] = [
      { status: 'sent', providerMessageId: 'm1' },
      { status: 'failed', reason: 'provider_unavailable' },
      { status: 'rejected', reason: 'unregistered_token' },
    ];
    const outcome = outcomeOf('apns', [push(phone), push(tablet), push(old)], results);
    assert.equal(outcome.kind, 'sent');
    assert.deepEqual(outcome.kind === 'sent' && outcome.unsent?.map((u) => u.reason), ['provider_unavailable']);
    assert.ok(outcome.kind === 'sent' && !outcome.unsent?.[0]?.to.includes(tablet), 'masked');
    assert.equal(outcome.kind === 'sent' && outcome.unsent?.[0]?.tokenDigest, createHash('sha256').update(tablet).digest('hex'), 'picked out again by its digest, not its token');
    const requested: NotificationEvent = { type: 'NotificationRequested', data: { notificationId: 'n1', userId: 'u1', channel: 'push', category: 'c', content: { push: { title: 't', body: 'b' } }, routes: ['apns'], priority: 'normal', at: 'T' } };
    const [sent] = decideNotification({ type: 'RecordDelivery', data: { notificationId: 'n1', route: 'apns', attempt: 1, maxAttempts: 5, retryAt: 'T', outcome } }, evolveNotification(initialNotificationState(), requested), 'T');
    assert.equal(sent?.type, 'NotificationSent');
    assert.deepEqual(sent?.type === 'NotificationSent' && sent.data.unsent, outcome.kind === 'sent' ? outcome.unsent : undefined);
  });

  it('reached none, some for a passing reason: a transient failure that lists those (a retry of unsent devices keeps them)', () => {
    const outcome = outcomeOf('apns', [push(phone), push(tablet)], [{ status: 'failed', reason: 'provider_unavailable' }, { status: 'rejected', reason: 'unregistered_token' }]);
    assert.equal(outcome.kind === 'failed' && outcome.permanent, false);
    assert.deepEqual(outcome.unsent?.map((u) => [u.reason, u.tokenDigest]), [['provider_unavailable', createHash('sha256').update(phone).digest('hex')]]);
  });

  it('reached every device: no unsent list at all', () => {
    const outcome = outcomeOf('apns', [push(phone), push(tablet)], [{ status: 'sent', providerMessageId: 'm1' }, { status: 'sent', providerMessageId: 'm2' }]);
    assert.deepEqual(outcome, { kind: 'sent', provider: 'apns', deliveries: outcome.kind === 'sent' ? outcome.deliveries : [], rejected: [] });
  });
});
