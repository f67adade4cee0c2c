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

  it('gives push an open rate once the app reports receipts: APNs and FCM send none', async () => {
    await h.app.inject({ method: 'POST', url: '/v1/users/u-1/devices', headers: auth, payload: { platform: 'android', token: `fcm:${'t'.repeat(150)}` } });
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['push'], category: 'chat', content: { push: { title: 't', body: `m ${i}` } } } });
      ids.push(res.json<{ notifications: { id: string }[] }>().notifications[0]!.id);
    }
    // The app's push handler reports each arrival; the user opens one of the four.
    for (const id of ids) {
      const res = await h.app.inject({ method: 'POST', url: `/v1/notifications/${id}/delivered`, headers: auth });
      assert.deepEqual([res.statusCode, res.json()], [202, { id, delivered: true }]);
    }
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/notifications/${ids[0]}/delivered`, headers: auth })).statusCode, 202, 'a second report is taken and adds nothing');
    assert.equal((await h.app.inject({ method: 'POST', url: `/v1/notifications/${ids[0]}/opened`, headers: auth })).statusCode, 202);
    const push = await eventually(8000, 'four push delivered, one opened', async () => {
      const row = (await get(`from=${today}&to=${today}&channel=push`)).json<{ rows: (Row & { delivered: number; opened: number; openRate: number | null })[] }>().rows[0];
      return row?.delivered === 4 && row.opened === 1 ? row : undefined;
    });
    assert.equal(push.openRate, 0.25);
    const doc = (await h.app.inject({ method: 'GET', url: `/v1/notifications/${ids[1]}`, headers: auth })).json<{ delivered?: boolean; events: { type: string; source?: string }[] }>();
    assert.equal(doc.delivered, true);
    assert.deepEqual(doc.events.filter((e) => e.type === 'NotificationDelivered').map((e) => e.source), ['app']);
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

describe('GET /v1/analytics?tz=: days and hours in the analyst\'s time zone', () => {
  let h: Awaited<ReturnType<typeof startTestHerald>>;
  let clock = new Date();
  const get = (query: string) => h.app.inject({ method: 'GET', url: `/v1/analytics?channel=sms&${query}`, headers: auth });
  const rows = async (query: string) => {
    const res = await get(query);
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ tz?: string; rows: Row[] }>().rows.map((r) => [r.bucket, r.requested]);
  };

  before(async () => {
    h = await startTestHerald({}, { now: () => clock });
    await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+14155550123' } });
    // New York springs forward at 07:00 UTC on 2026-03-08: that local day has 23 hours, 05:00 to 04:00 UTC.
    for (const at of ['2026-03-08T04:30:00Z', '2026-03-08T05:30:00Z', '2026-03-09T03:30:00Z', '2026-03-09T04:30:00Z']) {
      clock = new Date(at);
      const res = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms'], category: 'c', content: { sms: { body: at } } } });
      assert.equal(res.statusCode, 202, res.body);
    }
    await eventually(8000, 'four requests projected', async () => ((await rows('from=2026-03-08&to=2026-03-09')).reduce((n, [, r]) => n + Number(r), 0) === 4 ? true : undefined));
  });
  after(async () => h.close());

  it('without tz, days are UTC days, as before', async () => {
    assert.deepEqual(await rows('from=2026-03-08&to=2026-03-09'), [['2026-03-08', 2], ['2026-03-09', 2]]);
  });

  it('adds up the UTC hours of each local day, the 23-hour one the clocks spring forward included', async () => {
    const res = await get('from=2026-03-07&to=2026-03-09&tz=America/New_York');
    assert.equal(res.json<{ tz: string }>().tz, 'America/New_York');
    assert.deepEqual(await rows('from=2026-03-07&to=2026-03-09&tz=America/New_York'), [['2026-03-07', 1], ['2026-03-08', 2], ['2026-03-09', 1]]);
    assert.deepEqual(await rows('from=2026-03-08&to=2026-03-08&tz=America/New_York'), [['2026-03-08', 2]], 'a local date in from/to is that whole local day');
  });

  it('labels hours with their local time and offset', async () => {
    assert.deepEqual(await rows('groupBy=hour&from=2026-03-07T00:00:00Z&to=2026-03-10T00:00:00Z&tz=America/New_York'), [
      ['2026-03-07T23:00-05:00', 1], ['2026-03-08T00:00-05:00', 1], ['2026-03-08T23:00-04:00', 1], ['2026-03-09T00:00-04:00', 1],
    ]);
    assert.deepEqual((await rows('groupBy=hour&from=2026-03-08T05:00:00Z&to=2026-03-08T06:00:00Z&tz=Asia/Kolkata')), [['2026-03-08T10:30+05:30', 1]]);
  });

  it('refuses days in a zone whose offset is not whole hours, and a zone that does not exist, saying what to do', async () => {
    const half = await get('from=2026-03-08&to=2026-03-08&tz=Asia/Kolkata');
    assert.equal(half.statusCode, 422);
    assert.equal(half.json<{ code: string }>().code, 'time_zone_not_whole_hours');
    assert.match(half.json<{ detail: string }>().detail, /UTC\+05:30.*groupBy=hour/);
    const unknown = await get('tz=Mars/Olympus');
    assert.equal(unknown.statusCode, 422);
    assert.match(unknown.body, /IANA time zone/);
  });
});
