import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { createApp, type Harness } from './helpers.ts';

/** mulberry32: a seeded generator, so a failure can be replayed with the printed seed. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Gen = ReturnType<typeof generator>;

const STRINGS = ['', ' ', 'a', 'ü', '名前', '🙂', '\u0000', '\u202e', '\ud800', '%', '%00', '%zz', '../..', '..%2f', '<script>', "' OR 1=1 --", '${jndi:x}', '__proto__', 'constructor', 'null', '-1', '1e309', 'ada@example.com', '+14155550123'];
const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/problem+json', '', 'application/json; charset=nope', '*/*'];
const KEYS = ['to', 'channels', 'category', 'content', 'push', 'sms', 'email', 'userId', 'name', 'scopes', 'phone', 'token', 'platform', 'graceSeconds', 'ids', '__proto__', 'constructor', 'prototype'];

function randomString(g: Gen): string {
  switch (g.int(4)) {
    case 0:
      return g.pick(STRINGS);
    case 1:
      return g.pick(STRINGS).repeat(1 + g.int(2000));
    case 2:
      return String.fromCodePoint(...Array.from({ length: 1 + g.int(40) }, () => g.int(0x10ffff + 1)).filter((c) => c < 0xd800 || c > 0xdfff));
    default:
      return 'x'.repeat(g.pick([255, 256, 4096, 70_000]));
  }
}

function randomValue(g: Gen, depth = 0): unknown {
  const kind = depth > 4 ? g.int(5) : g.int(8);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return g.pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 42]);
    case 2:
      return g.next() < 0.5;
    case 3:
    case 4:
      return randomString(g);
    case 5:
      return Array.from({ length: g.int(5) }, () => randomValue(g, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: g.int(6) }, () => [g.next() < 0.7 ? g.pick(KEYS) : randomString(g).slice(0, 50), randomValue(g, depth + 1)]));
  }
}

/** Bodies that are not random values: deep nesting, broken JSON, binary. */
function randomRaw(g: Gen): string {
  const depth = g.pick([100, 1000, 5000]);
  switch (g.int(6)) {
    case 0:
      return '['.repeat(depth) + ']'.repeat(depth);
    case 1:
      return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    case 2:
      return '{"to": [';
    case 3:
      return '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}';
    case 4:
      return Buffer.from(Array.from({ length: g.int(512) }, () => g.int(256))).toString('latin1');
    default:
      return JSON.stringify(randomValue(g)).slice(0, g.int(200));
  }
}

/** Lone surrogates cannot be URI-encoded; send their (invalid UTF-8) bytes instead. */
const enc = (text: string) => {
  try {
    return encodeURIComponent(text);
  } catch {
    return '%ED%A0%80';
  }
};

function randomPath(g: Gen, patterns: readonly string[]): string {
  if (g.next() < 0.15) return `/${randomString(g).slice(0, 300)}`;
  const pattern = g.pick(patterns);
  const filled = pattern.replace(/:[A-Za-z]+/g, () => (g.next() < 0.3 ? '0190a0b0-0000-7000-8000-000000000000' : enc(randomString(g).slice(0, 500))));
  return g.next() < 0.2 ? `${filled}?${enc(randomString(g).slice(0, 100))}=${enc(randomString(g).slice(0, 100))}&limit=${g.pick(['-1', 'abc', '1e9', ''])}` : filled;
}

describe('fuzz: malformed bodies, headers and paths never cause a 5xx', () => {
  let h: Harness;
  let appToken: string;
  before(async () => {
    // Webhooks configured, so forged callbacks meet signature checks rather than "not configured".
    const sendgridKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    h = await startTestHerald({ HERALD_RATE_LIMIT_PER_MINUTE: '1000000', HERALD_BODY_LIMIT_BYTES: '65536', HERALD_PUBLIC_URL: 'https://herald.test', HERALD_TWILIO_WEBHOOK_AUTH_TOKEN: 'twilio-token-0123456789', HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKey });
    appToken = (await createApp(h, ['send', 'read'])).token;
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { email: 'ada@example.com' } });
  });
  after(async () => {
    await h.close();
  });

  it('3,000 random requests: every answer is below 500, and /health still answers', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const g = generator(seed);
    const patterns = [...new Set(h.app.registeredRoutes.filter((r) => !r.url.startsWith('/docs')).map((r) => r.url))];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const;
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const method = g.pick(methods);
      const url = randomPath(g, patterns);
      const headers: Record<string, string> = {};
      const authChoice = g.int(5);
      if (authChoice <= 1) Object.assign(headers, auth);
      else if (authChoice === 2) headers.authorization = `Bearer ${appToken}`;
      else if (authChoice === 3) headers.authorization = g.pick(['Bearer ', 'Bearer ak_.', 'Basic Og==', `Bearer ak_${randomString(g).slice(0, 40)}.x`, randomString(g).replace(/[^\x20-\x7e]/g, '').slice(0, 1000)]);
      if (g.next() < 0.8) headers['content-type'] = g.pick(CONTENT_TYPES);
      if (g.next() < 0.2) headers['idempotency-key'] = randomString(g).replace(/[^\x20-\x7e]/g, '').slice(0, 600);
      if (g.next() < 0.1) headers['x-request-id'] = randomString(g).replace(/[^\x20-\x7e]/g, '').slice(0, 300);
      const hasBody = !['GET', 'HEAD'].includes(method) && g.next() < 0.9;
      const payload = hasBody ? (g.next() < 0.6 ? JSON.stringify(randomValue(g)) : randomRaw(g)) : undefined;
      const res = await h.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, `seed ${seed}, request ${i}: ${method} ${url.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)} body ${String(payload).slice(0, 200)} → ${res.statusCode} ${res.body.slice(0, 300)}`);
    }
    assert.ok((statuses.get(401) ?? 0) > 0 && (statuses.get(422) ?? 0) + (statuses.get(400) ?? 0) > 0, `a spread of answers: ${JSON.stringify([...statuses])}`);
    const health = await h.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    const ready = await h.app.inject({ method: 'GET', url: '/ready' });
    assert.equal(ready.statusCode, 200, ready.body);
  });
});
