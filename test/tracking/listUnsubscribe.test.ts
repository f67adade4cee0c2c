import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { listUnsubscribeHeaders } from '../../src/tracking/listUnsubscribe.ts';
import { verifyLinkToken } from '../../src/tracking/linkToken.ts';

const secret = randomBytes(32);
const https = { secret, publicUrl: 'https://herald.example.com/' };
const id = '0190a0b0-0000-7000-8000-000000000001';

describe('List-Unsubscribe headers', () => {
  it('gives email of a category the user can opt out of a signed one-click link (RFC 8058)', () => {
    const headers = listUnsubscribeHeaders(https, { notificationId: id, channel: 'email', transactional: false });
    assert.deepEqual(Object.keys(headers ?? {}), ['List-Unsubscribe', 'List-Unsubscribe-Post']);
    assert.equal(headers?.['List-Unsubscribe-Post'], 'List-Unsubscribe=One-Click');
    const link = /^<https:\/\/herald\.example\.com\/t\/u\/([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)>$/.exec(headers?.['List-Unsubscribe'] ?? '');
    assert.ok(link, headers?.['List-Unsubscribe']);
    assert.deepEqual(verifyLinkToken(secret, link[1]!), { kind: 'unsubscribe', notificationId: id });
  });

  it('gives none to transactional email, to email of unknown kind (requested before the field existed) and to other channels', () => {
    assert.equal(listUnsubscribeHeaders(https, { notificationId: id, channel: 'email', transactional: true }), undefined);
    assert.equal(listUnsubscribeHeaders(https, { notificationId: id, channel: 'email' }), undefined);
    assert.equal(listUnsubscribeHeaders(https, { notificationId: id, channel: 'sms', transactional: false }), undefined);
  });

  it('behind a plain-HTTP public URL gives the link without claiming one-click, which RFC 8058 allows only over HTTPS', () => {
    const headers = listUnsubscribeHeaders({ secret, publicUrl: 'http://127.0.0.1:3000' }, { notificationId: id, channel: 'email', transactional: false });
    assert.deepEqual(Object.keys(headers ?? {}), ['List-Unsubscribe']);
    assert.match(headers?.['List-Unsubscribe'] ?? '', /^<http:\/\/127\.0\.0\.1:3000\/t\/u\//);
  });
});
