import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { signLinkToken, verifyLinkToken } from '../../src/tracking/linkToken.ts';

const secret = randomBytes(32);
const id = '0190a0b0-0000-7000-8000-000000000001';

describe('signed tracking link tokens', () => {
  it('round-trips an open token and a click token with its URL', () => {
    assert.deepEqual(verifyLinkToken(secret, signLinkToken(secret, { kind: 'open', notificationId: id })), { kind: 'open', notificationId: id });
    const url = 'https://example.com/a?b=1&c=x|y#frag';
    assert.deepEqual(verifyLinkToken(secret, signLinkToken(secret, { kind: 'click', notificationId: id, url })), { kind: 'click', notificationId: id, url });
  });

  it('round-trips an unsubscribe token, which an open token of the same notification is not', () => {
    const token = signLinkToken(secret, { kind: 'unsubscribe', notificationId: id });
    assert.deepEqual(verifyLinkToken(secret, token), { kind: 'unsubscribe', notificationId: id });
    assert.notEqual(token, signLinkToken(secret, { kind: 'open', notificationId: id }));
    const mac = token.split('.')[1]!;
    assert.equal(verifyLinkToken(secret, `${Buffer.from(`o|${id}`).toString('base64url')}.${mac}`), null);
  });

  it('rejects a token whose content was changed but whose MAC was kept (forgery)', () => {
    const token = signLinkToken(secret, { kind: 'click', notificationId: id, url: 'https://example.com/' });
    const mac = token.split('.')[1]!;
    const forgedBody = Buffer.from(`c|${id}|https://evil.example/`).toString('base64url');
    assert.equal(verifyLinkToken(secret, `${forgedBody}.${mac}`), null);
    const otherId = Buffer.from(`o|0190a0b0-0000-7000-8000-000000000002`).toString('base64url');
    assert.equal(verifyLinkToken(secret, `${otherId}.${mac}`), null);
  });

  it('rejects a token signed with another secret, a truncated MAC and garbage', () => {
    const token = signLinkToken(randomBytes(32), { kind: 'open', notificationId: id });
    assert.equal(verifyLinkToken(secret, token), null);
    const good = signLinkToken(secret, { kind: 'open', notificationId: id });
    assert.equal(verifyLinkToken(secret, good.slice(0, -2)), null);
    const last = good.at(-1)!;
    const sameBits = String.fromCharCode(last.charCodeAt(0) ^ 1);
    if (/[A-Za-z0-9_-]/.test(sameBits)) assert.equal(verifyLinkToken(secret, good.slice(0, -1) + sameBits), null, 'a non-canonical spelling of the MAC');
    assert.equal(verifyLinkToken(secret, 'not-a-token'), null);
    assert.equal(verifyLinkToken(secret, '.'), null);
  });

  it('never yields a redirect to anything but an absolute http(s) URL, even when signed', () => {
    for (const url of ['javascript:alert(1)', '//evil.example', '/relative', 'data:text/html,x']) {
      assert.equal(verifyLinkToken(secret, signLinkToken(secret, { kind: 'click', notificationId: id, url })), null, url);
    }
  });
});
