import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import twilio from 'twilio';
import { verifySendgridSignature } from '../../src/http/webhooks/sendgridSignature.ts';
import { verifyTwilioSignature } from '../../src/http/webhooks/twilioSignature.ts';
import { signedByTwilio } from '../support/twilioSign.ts';
import { parseSendgridPublicKey } from '../../src/tracking/config.ts';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const nowMs = Date.parse('2026-11-23T10:00:00Z');
const ts = String(nowMs / 1000);
const body = Buffer.from('[{"event":"delivered","email":"a@example.com"}]');
const signWith = (key: typeof privateKey, timestamp: string, raw: Buffer) => sign('sha256', Buffer.concat([Buffer.from(timestamp), raw]), key).toString('base64');

describe('SendGrid signed Event Webhook verification', () => {
  const key = parseSendgridPublicKey(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));
  const check = (signature: string | undefined, timestamp: string | undefined, raw = body) => verifySendgridSignature(key, { signature, timestamp, rawBody: raw }, nowMs, 300);

  it('accepts a signature over timestamp + raw body made with the matching private key', () => {
    assert.deepEqual(check(signWith(privateKey, ts, body), ts), { ok: true });
  });

  it('rejects a changed body, another key, a changed timestamp and garbage', () => {
    const good = signWith(privateKey, ts, body);
    assert.deepEqual(check(good, ts, Buffer.from(`${body.toString()} `)), { ok: false, reason: 'invalid' });
    assert.deepEqual(check(signWith(other.privateKey, ts, body), ts), { ok: false, reason: 'invalid' });
    assert.deepEqual(check(good, String(Number(ts) + 1)), { ok: false, reason: 'invalid' });
    assert.deepEqual(check('bm90IGEgc2lnbmF0dXJl', ts), { ok: false, reason: 'invalid' });
  });

  it('rejects a genuine but old request (replay) and one from the far future', () => {
    const old = String(Number(ts) - 301);
    assert.deepEqual(check(signWith(privateKey, old, body), old), { ok: false, reason: 'stale' });
    const future = String(Number(ts) + 301);
    assert.deepEqual(check(signWith(privateKey, future, body), future), { ok: false, reason: 'stale' });
  });

  it('rejects an unsigned request', () => {
    assert.deepEqual(check(undefined, ts), { ok: false, reason: 'unsigned' });
    assert.deepEqual(check(signWith(privateKey, ts, body), undefined), { ok: false, reason: 'unsigned' });
  });

  it('reads the key as base64 DER or PEM and refuses anything else', () => {
    assert.equal(parseSendgridPublicKey(publicKey.export({ format: 'pem', type: 'spki' }).toString()).asymmetricKeyType, 'ec');
    assert.throws(() => parseSendgridPublicKey('bm90IGEga2V5IGF0IGFsbCwgbm90IGV2ZW4gY2xvc2UgdG8gb25l'));
  });
});

describe('Twilio X-Twilio-Signature verification', () => {
  const token = 'twilio-auth-token-0123456789';
  const url = 'https://herald.example.com/v1/webhooks/twilio/status';
  const params = new URLSearchParams({ MessageSid: 'SM123', MessageStatus: 'delivered', To: '+14155550123', ErrorCode: '' });

  it('accepts the signature the Twilio SDK computes', () => {
    assert.ok(verifyTwilioSignature(token, url, params, twilio.getExpectedTwilioSignature(token, url, Object.fromEntries(params))));
  });

  // Twilio signs over the URL it was configured with, port as written, basic-auth credentials
  // dropped (docs: Secure webhooks); the SDK's validateRequest also tries the URL with and without
  // its default port. Each case: [URL Herald knows, URL Twilio signed over].
  const signedAs = (signedUrl: string) => twilio.getExpectedTwilioSignature(token, signedUrl, Object.fromEntries(params));
  const host = 'herald.example.com/v1/webhooks/twilio/status?via=twilio';
  const tolerated: [known: string, signed: string][] = [
    [`https://${host}`, `https://${host}`],
    [`https://${host.replace('.com/', '.com:443/')}`, `https://${host}`],
    [`https://${host}`, `https://${host.replace('.com/', '.com:443/')}`],
    [`http://${host.replace('.com/', '.com:80/')}`, `http://${host}`],
    [`http://${host}`, `http://${host.replace('.com/', '.com:80/')}`],
    [`https://twilio:s3cret@${host}`, `https://${host}`],
    [`https://twilio:s3cret@${host.replace('.com/', '.com:443/')}`, `https://${host}`],
    [`https://twilio:s3cret@${host}`, `https://${host.replace('.com/', '.com:443/')}`],
    [`https://twilio:s3cret@${host}`, `https://twilio:s3cret@${host}`],
    // An @ left unencoded in the password: the credentials end at the last @, as URL parsers read it.
    [`https://twilio:p@ss@${host}`, `https://${host}`],
  ];
  for (const [known, signed] of tolerated) {
    it(`accepts a request signed over ${signed} where Herald knows ${known}`, () => {
      assert.ok(verifyTwilioSignature(token, known, params, signedAs(signed)));
    });
  }

  it('still rejects a signature over another port, host, scheme or path', () => {
    for (const signed of [`https://${host.replace('.com/', '.com:8443/')}`, `https://other.example.com/v1/webhooks/twilio/status?via=twilio`, `http://${host}`, `https://${host.replace('status', 'inbound')}`]) {
      assert.equal(verifyTwilioSignature(token, `https://twilio:s3cret@${host}`, params, signedAs(signed)), false, signed);
    }
  });

  it('rejects a changed parameter, another URL, another token and a missing header', () => {
    const good = signedByTwilio(token, url, params);
    const changed = new URLSearchParams(params);
    changed.set('MessageStatus', 'undelivered');
    assert.equal(verifyTwilioSignature(token, url, changed, good), false);
    assert.equal(verifyTwilioSignature(token, `${url}?x=1`, params, good), false);
    assert.equal(verifyTwilioSignature('another-token-0123456789', url, params, good), false);
    assert.equal(verifyTwilioSignature(token, url, params, undefined), false);
  });
});
