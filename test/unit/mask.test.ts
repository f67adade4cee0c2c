import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskContactsIn, maskedLink, maskedUrl, maskIfContact } from '../../src/mask.ts';

describe('masking for logs and error bodies', () => {
  it('masks email addresses and phone numbers, and leaves other values as they are', () => {
    assert.equal(maskIfContact('ada@example.com'), 'a***@e***.com');
    assert.equal(maskIfContact('+14155550123'), '+14******23');
    assert.equal(maskIfContact('415 555 0123'), '41******23');
    assert.equal(maskIfContact('u-1'), 'u-1');
    // An id of digits alone is longer than any phone number (E.164: at most 15 digits).
    assert.equal(maskIfContact('00000000-0000-7000-8000-000000000000'), '00000000-0000-7000-8000-000000000000');
  });

  it('masks contact details inside free text, but not dates or long ids', () => {
    assert.equal(maskContactsIn('got ada@example.com and +1 415 555 0123'), 'got a***@e***.com and +14******23');
    assert.equal(maskContactsIn('an ISO 8601 time with offset, e.g. 2026-12-01T09:00:00Z'), 'an ISO 8601 time with offset, e.g. 2026-12-01T09:00:00Z');
    assert.equal(maskContactsIn('no notification 00000000-0000-7000-8000-000000000001'), 'no notification 00000000-0000-7000-8000-000000000001');
    assert.equal(maskContactsIn('no notification 01a2270f-0536-7051-b2d9-3d8b9ed11292'), 'no notification 01a2270f-0536-7051-b2d9-3d8b9ed11292', 'digit runs inside a UUID');
    assert.equal(maskContactsIn('to 01a2270f-0536-7051-b2d9-3d8b9ed11292@relay.example'), 'to 0***@r***.example', 'an address whose mailbox is a UUID is an address');
  });

  it('masks phone numbers inside free text whatever their separators: dots, brackets, dashes', () => {
    assert.equal(maskContactsIn('call 415.555.0123.'), 'call 41******23.');
    assert.equal(maskContactsIn('(415) 555-0123'), '41******23');
    assert.equal(maskContactsIn('phone +1 (415) 555-0123 here'), 'phone +14******23 here');
    assert.equal(maskContactsIn('+1(415)555-0123'), '+14******23');
    assert.equal(maskContactsIn('tel:+14155550123, or phone-4155550123'), 'tel:+14******23, or phone-41******23');
  });

  it('masks device tokens and contact details in a URL path and drops query values', () => {
    assert.equal(maskedUrl('/v1/users/ada@example.com/devices/a1b2c3d4e5f6a1b2c3d4'), '/v1/users/a***@e***.com/devices/a1b2…(20)');
    assert.equal(maskedUrl('/v1/users/%2B14155550123'), '/v1/users/+14******23');
    assert.equal(maskedUrl('/v1/notifications/00000000-0000-7000-8000-000000000001'), '/v1/notifications/00000000-0000-7000-8000-000000000001');
    assert.equal(maskedUrl('/v1/users/u-1/notifications?limit=5&cursor=abc'), '/v1/users/u-1/notifications?limit=…&cursor=…');
    assert.equal(maskedUrl('/v1/users/ada%E0%A4%A'), '/v1/users/ada%E0%A4%A', 'a segment that cannot be decoded is kept as sent');
    assert.equal(maskedUrl('/v1/users/ada@example.com%E0%A4%A'), '/v1/users/a***@e***.com%E0%A4%A', '… with the contact details in it masked');
    assert.equal(maskedUrl('/v1/users/ada.lovelace%40example.com%E0'), '/v1/users/a***@e***.com%E0', '… also when they are percent-encoded');
    assert.equal(maskedUrl('/v1/users/%2B1%20415%20555%200123%E0'), '/v1/users/+14******23%E0');
    assert.equal(maskedUrl('/v1/users/b%C3%BCcher%2Dfan%E0'), '/v1/users/b%C3%BCcher%2Dfan%E0', 'a segment without a contact detail is still shown as sent');
  });

  it('shows a clicked link by its origin, path and parameter names: no query values, credentials or fragment', () => {
    assert.equal(maskedLink('https://shop.example/reset?email=ada@example.com&token=s3cr3t#access_token=abc'), 'https://shop.example/reset?email=…&token=…#…');
    assert.equal(maskedLink('https://ada:hunter2@shop.example:8443/orders/42?utm_source=email'), 'https://shop.example:8443/orders/42?utm_source=…');
    assert.equal(maskedLink('https://shop.example/users/ada@example.com/profile'), 'https://shop.example/users/a***@e***.com/profile');
    assert.equal(maskedLink('https://herald.example.com/t/c/eyJub3RpZmljYXRpb24iOiJ4In0.mac'), 'https://herald.example.com/t/c/eyJu…(31)', 'a Herald click token carries its destination');
    assert.equal(maskedLink('https://shop.example'), 'https://shop.example');
    // Credentials end at the authority's last @, as URL parsers (and browsers) read it.
    assert.equal(maskedLink('https://alice@example.com:hunter2@app.example.org/welcome'), 'https://app.example.org/welcome');
    assert.equal(maskedLink('https://x@alice@example.com/'), 'https://example.com/');
    // A password-reset or magic-link token in the path is masked; the words around it are kept.
    assert.equal(maskedLink('https://app.example.org/password/reset/8f14e45fceea167a5a36dedd4bea2543'), 'https://app.example.org/password/reset/8f14…(32)');
    assert.equal(maskedLink('https://app.example.com/reset/AbCdEfGhIjKlMnOpQrStUv'), 'https://app.example.com/reset/AbCd…(22)', 'a token without a digit');
    assert.equal(maskedLink('https://app.example.com/magic/3f2a9c1e-8b7d-4e6f-a5b4-c3d2e1f0a9b8'), 'https://app.example.com/magic/3f2a…(36)', 'a UUID');
    // Slugs say which link it was, and are kept.
    assert.equal(maskedLink('https://shop.example.com/blog/2026-11-29-release-notes'), 'https://shop.example.com/blog/2026-11-29-release-notes');
    assert.equal(maskedLink('https://shop.example.com/p/iphone-15-pro-max-review'), 'https://shop.example.com/p/iphone-15-pro-max-review');
    // A backslash ends the host, as URL parsers read it: the credentials end before it.
    assert.equal(maskedLink('https://user:pw@shop.example.com\\reset\\x@evil.com/y'), 'https://shop.example.com\\***@e***.com/y');
    assert.equal(maskedLink('https://app.example.com\\reset\\abc123def456ghi789jkl'), 'https://app.example.com\\reset\\abc1…(21)');
    assert.equal(maskedLink('mailto:ada@example.com'), 'm***@e***.com', 'not an http(s) URL: masked as a path');
  });

  it('masks whatever follows …/devices/ as a device token, however the client spelt the slashes', () => {
    const token = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    assert.equal(maskedUrl(`/v1/users/u-1/devices//${token}`), '/v1/users/u-1/devices//a1b2…(32)');
    assert.equal(maskedUrl(`/v1/users/u-1/devices/${token}/x`), '/v1/users/u-1/devices/a1b2…(32)/***');
    assert.equal(maskedUrl(`/v1/users/u-1/Devices/${token}`), '/v1/users/u-1/Devices/a1b2…(32)');
    assert.equal(maskedUrl(`/v1/users/u-1/devices%2F${token}`), '/v1/users/u-1/devi…(40)');
    assert.equal(maskedUrl('/v1/users/u-1/devices'), '/v1/users/u-1/devices');
  });

  it('keeps only the names of query parameters: a key that is an address or a token is dropped as its value is', () => {
    assert.equal(maskedUrl('/v1/users/u-1/notifications?ada@example.com'), '/v1/users/u-1/notifications?…');
    assert.equal(maskedUrl('/v1/users/u-1/notifications?limit=5&%2B14155550123&ada%40example.com=1'), '/v1/users/u-1/notifications?limit=…&…&…');
    assert.equal(maskedUrl(`/v1/analytics?channel[]=sms&from[a]=1&${'a1b2'.repeat(16)}`), '/v1/analytics?channel[]=…&from[a]=…&…');
  });

  it('masks the token of a tracking link (open pixel, click, unsubscribe), which may carry an address', () => {
    const token = `${Buffer.from('c|n-1|https://shop.example/account?email=ada@example.com').toString('base64url')}.${'m'.repeat(43)}`;
    assert.equal(maskedUrl(`/t/c/${token}`), `/t/c/${token.slice(0, 4)}…(${token.length})`);
    assert.equal(maskedUrl(`/t/u/${token}`), `/t/u/${token.slice(0, 4)}…(${token.length})`);
    assert.equal(maskedUrl(`/t/o/${token}/x`), `/t/o/${token.slice(0, 4)}…(${token.length})/***`);
    assert.equal(maskedUrl(`//t/c/${token}`), `//t/c/${token.slice(0, 4)}…(${token.length})`);
    assert.equal(maskedUrl('/t/o/'), '/t/o/');
    assert.equal(maskedUrl('/v1/tracking/unmatched'), '/v1/tracking/unmatched');
  });
});
