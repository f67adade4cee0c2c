import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromSendgrid, fromTwilioStatus, inboundKeyword } from '../../src/tracking/providerFacts.ts';
import { twilioErrorToResult } from '../../src/adapters/providers/twilio/errors.ts';
import { optOutReasonOfRefusal } from '../../src/domain/contactOptOut.ts';
import { providerMessages } from '../../src/projections/providerMessages.ts';
import type { Recorded } from '../../src/domain/events.ts';

const id = '0190a0b0-0000-7000-8000-000000000001';

const form = (o: Record<string, string>) => new URLSearchParams(o);

describe('provider webhook events as tracking facts', () => {
  it('maps SendGrid events, matching by custom arg and X-Message-Id prefix', () => {
    const delivered = fromSendgrid({ event: 'delivered', email: 'a@example.com', sg_event_id: 'e1', sg_message_id: 'XMSG.filter0001.1', notificationId: id });
    assert.deepEqual(delivered, { provider: 'sendgrid', notificationId: id, providerMessageId: 'XMSG', to: 'a@example.com', fact: { source: 'sendgrid', providerEventId: 'e1', kind: 'delivered' } });
    assert.equal(fromSendgrid({ event: 'click', url: 'https://x.example' })?.fact.kind, 'clicked');
    assert.equal(fromSendgrid({ event: 'processed' }), null);
    assert.equal(fromSendgrid({ event: 'deferred' }), null);
  });

  it('opts out on a hard bounce, spam report and unsubscribe; not on a soft (blocked) bounce', () => {
    const hard = fromSendgrid({ event: 'bounce', type: 'bounce', reason: '550 5.1.1 <bob@example.com> unknown' });
    assert.deepEqual(hard?.optOut, { channel: 'email', reason: 'hard_bounce' });
    assert.equal(hard?.fact.kind === 'bounced' && hard.fact.reason?.includes('bob@example.com'), false, 'the SMTP reason is masked');
    const soft = fromSendgrid({ event: 'bounce', type: 'blocked' });
    assert.equal(soft?.fact.kind === 'bounced' && soft.fact.bounce, 'soft');
    assert.equal(soft?.optOut, undefined);
    assert.deepEqual(fromSendgrid({ event: 'spamreport' })?.optOut, { channel: 'email', reason: 'spam_report' });
    assert.deepEqual(fromSendgrid({ event: 'unsubscribe' })?.optOut, { channel: 'email', reason: 'unsubscribed' });
    assert.equal(fromSendgrid({ event: 'dropped', reason: 'Bounced Address' })?.fact.kind, 'undelivered');
  });

  it('opts out an address SendGrid dropped mail for because it is on SendGrid\'s own suppression lists; not for other drops', () => {
    assert.deepEqual(fromSendgrid({ event: 'dropped', reason: 'Bounced Address' })?.optOut, { channel: 'email', reason: 'hard_bounce' });
    assert.deepEqual(fromSendgrid({ event: 'dropped', reason: 'Spam Reporting Address' })?.optOut, { channel: 'email', reason: 'spam_report' });
    assert.deepEqual(fromSendgrid({ event: 'dropped', reason: 'Unsubscribed Address' })?.optOut, { channel: 'email', reason: 'unsubscribed' });
    assert.deepEqual(fromSendgrid({ event: 'dropped', reason: 'Invalid' })?.optOut, { channel: 'email', reason: 'invalid_address' }, 'on SendGrid\'s Invalid Emails list');
    for (const reason of ['Invalid SMTPAPI header', 'Spam Content', 'Recipient List over Package Quota', undefined]) assert.equal(fromSendgrid({ event: 'dropped', ...(reason ? { reason } : {}) })?.optOut, undefined, String(reason));
  });

  it('maps Twilio statuses: delivered and undelivered/failed are facts, progress is not', () => {
    assert.equal(fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: 'delivered' }))?.fact.kind, 'delivered');
    const failed = fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30003' }));
    assert.deepEqual(failed?.fact, { source: 'twilio', providerEventId: 'SM1:undelivered', kind: 'undelivered', reason: 'twilio_30003' });
    assert.deepEqual(fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: '21610', To: '+14155550123' }))?.optOut, { channel: 'sms', reason: 'carrier_opt_out' });
    for (const status of ['queued', 'sending', 'sent']) assert.equal(fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: status })), null);
  });

  it('opts the number out on a callback error that means it will never take SMS: unknown number, landline, STOP at Twilio', () => {
    const optOut = (status: string, ErrorCode?: string) => fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: status, To: '+14155550123', ...(ErrorCode === undefined ? {} : { ErrorCode }) }))?.optOut;
    assert.deepEqual(optOut('undelivered', '30005'), { channel: 'sms', reason: 'invalid_address' });
    assert.deepEqual(optOut('undelivered', '30006'), { channel: 'sms', reason: 'invalid_address' });
    assert.deepEqual(optOut('failed', '30006'), { channel: 'sms', reason: 'invalid_address' });
    assert.deepEqual(optOut('failed', '21610'), { channel: 'sms', reason: 'carrier_opt_out' });
    // Handset off, blocked for a reason Twilio cannot name, content filtered, unknown: the number may work tomorrow.
    for (const code of ['30003', '30004', '30007', '30008', '21612', 'x30005', undefined]) assert.equal(optOut('undelivered', code), undefined, String(code));
    const landline = fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30006' }))?.fact;
    assert.deepEqual(landline, { source: 'twilio', providerEventId: 'SM1:undelivered', kind: 'undelivered', reason: 'twilio_30006' }, 'the fact names the code');
  });

  it('reads a callback\'s error code as the adapter reads the same code refused at send time, so the two cannot disagree', () => {
    for (const code of [21211, 21614, 21610, 21612, 21408, 21602, 30005, 30006, 30003, 30004]) {
      const atSend = twilioErrorToResult({ status: 400, code });
      const expected = atSend.status === 'rejected' ? optOutReasonOfRefusal('sms', atSend.reason) : undefined;
      const later = fromTwilioStatus(form({ MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: String(code), To: '+14155550123' }))?.optOut;
      assert.deepEqual(later, expected ? { channel: 'sms', reason: expected } : undefined, String(code));
    }
  });

  it('recognises STOP and START keywords, whatever the case, and nothing else', () => {
    const keyword = (fields: Record<string, string>) => inboundKeyword(form(fields));
    for (const body of ['STOP', ' stop ', 'Unsubscribe', 'quit.', 'STOPALL']) assert.equal(keyword({ Body: body }), 'stop', body);
    for (const body of ['START', 'yes', 'Unstop!']) assert.equal(keyword({ Body: body }), 'start', body);
    for (const body of ['stop it please', 'yes please', '']) assert.equal(keyword({ Body: body }), null, body);
    assert.equal(keyword({}), null);
  });

  it('takes Twilio\'s own reading (Advanced Opt-Out\'s OptOutType) over the default keywords', () => {
    assert.equal(inboundKeyword(form({ Body: 'ARRET', OptOutType: 'STOP' })), 'stop');
    assert.equal(inboundKeyword(form({ Body: 'REPRENDRE', OptOutType: 'START' })), 'start');
    assert.equal(inboundKeyword(form({ Body: 'STOP', OptOutType: 'HELP' })), null);
  });
});

describe('provider_messages projection', () => {
  const sent = (route: string, providerMessageId: string): Recorded =>
    ({ type: 'NotificationSent', data: { notificationId: id, route, provider: 'p', deliveries: [{ to: 'x', providerMessageId }], rejected: [], at: 't' }, streamName: 's', revision: 1, position: 1, metadata: {} }) as Recorded;

  it('keys one document per (notification, message id) for SMS and email', () => {
    const event = sent('email', 'XMSG');
    assert.equal(providerMessages.keyOf(event), `${id}:XMSG`);
    assert.deepEqual(providerMessages.evolve(null, event), { providerMessageId: 'XMSG', notificationId: id, route: 'email', provider: 'p', sentAt: 't' });
  });

  it('ignores push: no push provider sends delivery webhooks', () => {
    assert.equal(providerMessages.keyOf(sent('fcm', 'projects/x/messages/1')), null);
  });
});
