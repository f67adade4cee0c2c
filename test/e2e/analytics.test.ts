import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

type Row = { bucket: string; channel: string; category: string; requested: number; sent: number; suppressed: Record<string, number>; latency: { sentP50: number | null } };

describe('GET /v1/analytics', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  const today = new Date().toISOString().slice(0, 10);
  const get = (query: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url: `/v1/analytics?${query}`, headers: { ...auth, ...headers } });

  before(async () => {
    h = await startTestHerald();
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123' } });
    for (let i = 0; i < 3; i += 1) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms'], category: 'order-updates', content: { sms: { body: `hi ${i}` } } } });
      assert.equal(res.statusCode, 202, res.body);
    }
    // No email address: suppressed.
    await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['email'], category: 'order-updates', content: { email: { subject: 's', text: 't' } } } });
  });
  after(async () => h.close());

  it('returns per-day rows by channel and category with outcomes and latency', async () => {
    // The read model is eventually consistent, and the SMS may be sent (and projected) before
    // the later email request is: wait for both rows.
    const { sms, email } = await eventually(8000, 'three sms sent and the email suppressed', async () => {
      const rows = (await get(`from=${today}&to=${today}`)).json<{ rows: Row[] }>().rows;
      const sms = rows.find((r) => r.channel === 'sms');
      const email = rows.filter((r) => r.channel === 'email');
      return sms?.sent === 3 && email[0]?.suppressed.no_address ? { sms, email } : undefined;
    });
    assert.equal(sms.bucket, today);
    assert.equal(sms.requested, 3);
    assert.ok(sms.latency.sentP50 !== null && sms.latency.sentP50 >= 0);
    assert.equal(email.length, 1);
    assert.deepEqual(email[0]!.suppressed, { no_address: 1 });
    const filtered = (await get(`from=${today}&to=${today}&channel=email`)).json<{ rows: Row[] }>().rows;
    assert.deepEqual(filtered, email, 'the channel filter gives the same row');
  });

  it('groups by hour and filters by category', async () => {
    const res = await get(`groupBy=hour&category=order-updates&channel=sms`);
    assert.equal(res.statusCode, 200, res.body);
    const rows = res.json<{ rows: Row[] }>().rows;
    assert.equal(rows.length, 1);
    assert.match(rows[0]!.bucket, /^\d{4}-\d\d-\d\dT\d\d:00Z$/);
    assert.equal((await get('category=nothing-here')).json<{ rows: Row[] }>().rows.length, 0);
  });

  it('answers CSV when asked with Accept: text/csv', async () => {
    const res = await get(`from=${today}&to=${today}`, { accept: 'text/csv' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    const [header, ...lines] = res.body.trim().split('\r\n');
    assert.match(header!, /^bucket,channel,category,template,requested,sent,delivered,opened,clicked/);
    assert.ok(lines.some((l) => l.startsWith(`${today},sms,order-updates,none,3,3,`)), res.body);
  });

  it('rejects a bad range or date with a problem saying what to fix', async () => {
    const res = await get('from=2026-12-01&to=2026-11-01');
    assert.equal(res.statusCode, 422);
    assert.equal(res.json<{ code: string }>().code, 'bad_range');
    assert.equal((await get('from=yesterday')).json<{ code: string }>().code, 'validation_failed');
  });
});
