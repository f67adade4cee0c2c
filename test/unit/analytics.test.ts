import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Recorded } from '../../src/domain/events.ts';
import { analytics, type AnalyticsNotificationDoc } from '../../src/projections/analytics.ts';
import { bucketIdOf, bucketIdsOf, bucketParts, emptyBucket, histogramIndex, percentile, type BucketDoc } from '../../src/projections/analyticsBuckets.ts';
import { toCsv, toRow } from '../../src/projections/analyticsQuery.ts';

const id = '00000000-0000-4000-8000-000000000001';
let position = 0;
const event = (type: string, data: Record<string, unknown>) =>
  ({ type, data: { notificationId: id, ...data }, streamName: `notification-${id}`, revision: position, position: ++position, metadata: {} }) as unknown as Recorded;
const requested = (extra: Record<string, unknown> = {}) =>
  event('NotificationRequested', { userId: 'u1', channel: 'sms', category: 'order-updates', content: {}, routes: ['sms'], priority: 'normal', at: '2026-11-23T10:15:00.000Z', ...extra });

/** Given events, the per-notification document and every bucket, as the projector would store them. */
function project(events: Recorded[]): { doc: AnalyticsNotificationDoc | null; buckets: Map<string, BucketDoc> } {
  let doc: AnalyticsNotificationDoc | null = null;
  const buckets = new Map<string, BucketDoc>();
  for (const e of events) {
    const step = analytics.evolveWithFanOut!(doc, e);
    assert.deepEqual(step.doc, analytics.evolve(doc, e), 'evolve and evolveWithFanOut agree on the document');
    doc = step.doc;
    for (const f of step.fanOut) buckets.set(f.key, f.evolve(buckets.get(f.key) ?? null) as BucketDoc);
  }
  return { doc, buckets };
}

describe('analytics projection', () => {
  it('counts a notification in its day and hour bucket by channel, category and template', () => {
    const { buckets } = project([requested({ template: 'order-shipped' })]);
    assert.deepEqual([...buckets.keys()], ['day|2026-11-23|sms|order-updates|order-shipped', 'hour|2026-11-23T10:00Z|sms|order-updates|order-shipped']);
    assert.equal(buckets.get('day|2026-11-23|sms|order-updates|order-shipped')?.requested, 1);
  });

  it('uses "none" as the template when the request names none', () => {
    const { doc } = project([requested()]);
    assert.equal(doc?.template, 'none');
  });

  it('counts sent, delivered, opened and clicked once each, with latencies from the request', () => {
    const { buckets } = project([
      requested(),
      event('NotificationSent', { route: 'sms', provider: 'twilio', deliveries: [], rejected: [], at: '2026-11-23T10:15:00.250Z' }),
      event('NotificationDelivered', { source: 'twilio', at: '2026-11-23T10:15:02.000Z' }),
      event('NotificationDelivered', { source: 'twilio', at: '2026-11-23T10:15:03.000Z' }),
      event('NotificationOpened', { at: '2026-11-23T11:00:00.000Z' }),
      event('NotificationClicked', { source: 'app', at: '2026-11-23T11:00:01.000Z' }),
      event('NotificationClicked', { source: 'app', at: '2026-11-23T11:00:02.000Z' }),
    ]);
    const day = toRow([...buckets.values()][0]!);
    assert.deepEqual([day.requested, day.sent, day.delivered, day.opened, day.clicked], [1, 1, 1, 1, 1]);
    assert.equal(day.openRate, 1);
    assert.ok(Math.abs(day.latency.sentP50! - 250) / 250 < 0.1, `sent p50 ${day.latency.sentP50} ≈ 250 ms`);
    assert.ok(Math.abs(day.latency.deliveredP99! - 2000) / 2000 < 0.1);
  });

  it('counts failed by reason once every route failed, and takes it back when the notification is redriven', () => {
    const failed = [requested(), event('NotificationFailed', { route: 'sms', provider: 'twilio', reason: 'invalid_number', permanent: true, rejected: [], at: '2026-11-23T10:16:00.000Z' })];
    assert.deepEqual([...project(failed).buckets.values()][0]!.failed, { invalid_number: 1 });
    const redriven = project([...failed, event('DeliveryRedriven', { route: 'sms', at: '2026-11-23T12:00:00.000Z' }), event('NotificationSent', { route: 'sms', provider: 'twilio', deliveries: [], rejected: [], at: '2026-11-23T12:00:01.000Z' })]);
    const bucket = [...redriven.buckets.values()][0]!;
    assert.deepEqual([bucket.failed, bucket.sent], [{}, 1]);
  });

  it('builds the same bucket, byte for byte, whatever order its notifications come in (a rebuild stream by stream)', () => {
    const suppressed = (reason: string) => [requested({ routes: [] }), event('NotificationSuppressed', { reason, at: '2026-11-23T10:15:00.000Z' })];
    const sent = [requested(), event('NotificationSent', { route: 'sms', provider: 'twilio', deliveries: [], rejected: [], at: '2026-11-23T10:15:03.000Z' })];
    const lives = [suppressed('rate_limited'), sent, suppressed('no_address'), suppressed('channel_opted_out'), suppressed('no_address')];
    /** Each life as its own notification's events, bucket steps applied in the given order of lives. */
    const bucketsOf = (order: readonly number[]) => {
      const buckets = new Map<string, BucketDoc>();
      for (const i of order) {
        let doc: AnalyticsNotificationDoc | null = null;
        for (const e of lives[i]!) {
          const step = analytics.evolveWithFanOut!(doc, { ...e, data: { ...e.data, notificationId: `n-${i}` } } as Recorded);
          doc = step.doc;
          for (const f of step.fanOut) buckets.set(f.key, f.evolve(buckets.get(f.key) ?? null) as BucketDoc);
        }
      }
      return JSON.stringify([...buckets].sort(([a], [b]) => a.localeCompare(b)));
    };
    const inOrder = bucketsOf([0, 1, 2, 3, 4]);
    assert.equal(bucketsOf([4, 3, 2, 1, 0]), inOrder);
    assert.equal(bucketsOf([2, 0, 4, 1, 3]), inOrder);
    assert.match(inOrder, /"suppressed":\{"channel_opted_out":1,"no_address":2,"rate_limited":1\}/);
  });

  it('counts suppressed by reason', () => {
    const { buckets } = project([requested({ routes: [] }), event('NotificationSuppressed', { reason: 'no_address', at: '2026-11-23T10:15:00.000Z' })]);
    assert.deepEqual([...buckets.values()][0]!.suppressed, { no_address: 1 });
  });

  it('keeps every document\'s fields in the order they were first written, through every kind of event', () => {
    const events = [
      requested({ routes: ['sms', 'email'] }),
      event('NotificationFailed', { route: 'sms', provider: 'twilio', reason: 'invalid_number', permanent: true, rejected: [], at: '2026-11-23T10:16:00.000Z' }),
      event('NotificationFailed', { route: 'email', provider: 'sendgrid', reason: 'bounced', permanent: true, rejected: [], at: '2026-11-23T10:16:01.000Z' }),
      event('DeliveryRedriven', { route: 'email', at: '2026-11-23T12:00:00.000Z' }),
      event('NotificationSent', { route: 'email', provider: 'sendgrid', deliveries: [], rejected: [], at: '2026-11-23T12:00:01.000Z' }),
      event('NotificationDelivered', { source: 'sendgrid', at: '2026-11-23T12:00:02.000Z' }),
      event('NotificationOpened', { at: '2026-11-23T13:00:00.000Z' }),
    ];
    const docKeys = ['notificationId', 'channel', 'category', 'template', 'requestedAt', 'dueAt', 'routes', 'counted', 'failedReason'];
    const bucketKeys = Object.keys(emptyBucket('day', { channel: 'sms', category: 'c', template: 't', requestedAt: '2026-11-23T10:15:00.000Z' }));
    for (let n = 1; n <= events.length; n += 1) {
      const { doc, buckets } = project(events.slice(0, n));
      assert.deepEqual(Object.keys(doc!), docKeys, events[n - 1]!.type);
      assert.deepEqual(Object.keys(doc!.routes), ['sms', 'email']);
      for (const bucket of buckets.values()) {
        assert.deepEqual(Object.keys(bucket), bucketKeys, events[n - 1]!.type);
        assert.deepEqual(Object.keys(bucket.latency), ['sent', 'delivered']);
      }
    }
  });

  it('ignores tracking for a notification it never saw requested', () => {
    const { doc, buckets } = project([event('NotificationOpened', { at: '2026-11-23T10:15:00.000Z' })]);
    assert.equal(doc, null);
    assert.equal(buckets.size, 0);
  });
});

describe('analytics bucket ids', () => {
  const expected = (at: { channel: string; category: string; template: string; requestedAt: string }) => [bucketIdOf('day', at.requestedAt, bucketParts(at)), bucketIdOf('hour', at.requestedAt, bucketParts(at))];

  it('remembered ids are the ids of the hour asked for, as each hour, combination and time zone comes and goes', () => {
    const times = ['2026-11-23T10:15:00.000Z', '2026-11-23T10:59:59.999Z', '2026-11-23T11:00:00.000Z', '2026-11-23T10:30:00.000Z', '2026-11-24T10:30:00.000Z', '2026-11-24T12:30:00+02:00', '2026-11-24T10:31:00.000Z'];
    const combinations = [{ channel: 'sms', category: 'orders', template: 'none' }, { channel: 'sms', category: 'a|b', template: 'none' }, { channel: 'email', category: 'orders', template: 't 1' }];
    for (const requestedAt of times) {
      for (const c of combinations) assert.deepEqual(bucketIdsOf({ ...c, requestedAt }), expected({ ...c, requestedAt }), `${c.channel} ${c.category} ${requestedAt}`);
    }
  });

  it('a combination asked again in the same hour gets the very same strings', () => {
    const at = { channel: 'push', category: 'news', template: 'weekly', requestedAt: '2026-11-23T10:15:00.000Z' };
    const [day, hour] = bucketIdsOf(at);
    const again = bucketIdsOf({ ...at, requestedAt: '2026-11-23T10:45:00.000Z' });
    assert.ok(again[0] === day && again[1] === hour);
  });

  it('forgets every combination once it remembers too many, and still gives the right ids', () => {
    for (let n = 0; n < 10_050; n += 1) {
      const at = { channel: 'sms', category: `c${n}`, template: 'none', requestedAt: '2026-11-23T10:15:00.000Z' };
      assert.deepEqual(bucketIdsOf(at), expected(at));
    }
  });
});

describe('analytics rows', () => {
  it('computes open and click rates on delivered, not on requested; null when nothing was delivered', () => {
    const bucket = { ...emptyBucket('day', { channel: 'email', category: 'c', template: 'none', requestedAt: '2026-11-23T00:00:00.000Z' }), requested: 10, delivered: 4, opened: 2, clicked: 1 };
    const row = toRow(bucket);
    assert.deepEqual([row.openRate, row.clickRate], [0.5, 0.25]);
    assert.equal(toRow({ ...bucket, delivered: 0 }).openRate, null);
  });

  it('reads percentiles from log-scale histograms within 10 %', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10);
    const histogram: Record<string, number> = {};
    for (const v of values) histogram[String(histogramIndex(v))] = (histogram[String(histogramIndex(v))] ?? 0) + 1;
    for (const [p, exact] of [[0.5, 5000], [0.95, 9500], [0.99, 9900]] as const) {
      const got = percentile(histogram, p)!;
      assert.ok(Math.abs(got - exact) / exact < 0.1, `p${p * 100}: ${got} vs ${exact}`);
    }
    assert.equal(percentile({}, 0.5), null);
  });

  it('writes flat CSV with one column per failure reason and quotes what needs it', () => {
    const bucket = { ...emptyBucket('day', { channel: 'sms', category: 'a,b', template: 'none', requestedAt: '2026-11-23T00:00:00.000Z' }), requested: 2, failed: { timeout: 1 } };
    const [header, line] = toCsv([toRow(bucket)]).split('\r\n');
    assert.match(header!, /^bucket,channel,category,template,requested,.*,failed,failed_timeout,suppressed,openRate,clickRate,latency_sentP50_ms/);
    assert.match(line!, /^2026-11-23,sms,"a,b",none,2,/);
  });
});
