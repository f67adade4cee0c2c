import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import { createLogger } from '../../src/logger.ts';
import { applyBatch } from '../../src/processors/projector.ts';
import { providerMessages } from '../../src/projections/providerMessages.ts';
import { ingestProviderFacts, listUnmatched, retryUnmatched, type TrackingContext } from '../../src/tracking/ingest.ts';
import { LateMatcher } from '../../src/tracking/lateMatch.ts';
import type { ProviderFact } from '../../src/tracking/providerFacts.ts';
import { eventually } from '../support/wait.ts';

const at = '2026-11-27T10:00:00.000Z';
const id = '00000000-0000-4000-8000-0000000000a1';
const delivered = (sid: string): ProviderFact => ({ provider: 'twilio', providerMessageId: sid, to: '+14155550123', fact: { source: 'twilio', providerEventId: `${sid}:delivered`, kind: 'delivered' } });

async function withStores(body: (ctx: TrackingContext) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-late-'));
  const events = new SqliteEventStore(join(dir, 'e.db'));
  const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
  await readModels.ensureCollection(providerMessages.collection);
  try {
    await body({ events, readModels, now: () => new Date(at) });
  } finally {
    await events.close();
    await readModels.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('provider events that arrive before their send is known', () => {
  it('are stored unmatched at once, then matched and recorded by themselves once the send is recorded and projected', () => withStores(async (ctx) => {
    const late = new LateMatcher(ctx, createLogger('silent'), { delaysMs: [20, 50, 100, 200, 400, 800], maxPending: 10 });
    try {
      await ctx.events.append(`notification-${id}`, [encodeEvent({
        type: 'NotificationRequested',
        data: { notificationId: id, userId: 'u1', channel: 'sms', category: 'news', content: { sms: { body: 'hi' } }, routes: ['sms'], priority: 'normal', at },
      })], 'no_stream');
      // Twilio's callback beats Herald's own record of the send.
      const result = await ingestProviderFacts(ctx, [delivered('SM1')], late);
      assert.equal(result.unmatched, 1);
      assert.equal((await listUnmatched(ctx, 'twilio')).length, 1);
      assert.equal(late.pending, 1);
      // Then the send is recorded, and the projector gets to it a while later.
      await new Promise((r) => setTimeout(r, 100));
      await ctx.events.append(`notification-${id}`, [encodeEvent({ type: 'NotificationSent', data: { notificationId: id, route: 'sms', provider: 'twilio', deliveries: [{ to: '+1415…0123', providerMessageId: 'SM1' }], rejected: [], at } })], 0);
      await applyBatch(ctx.readModels, providerMessages, providerMessages.collection.name, await ctx.events.readAll(), createLogger('silent'));
      // Two appends: the delivery on the notification's stream, then the mark on the provider's.
      const types = await eventually(5000, 'the delivery recorded and the stored event marked', async () => {
        const stream = (await ctx.events.readStream(`notification-${id}`)).map((e) => e.type);
        const marked = (await ctx.events.readStream('provider-events-twilio')).some((e) => e.type === 'ProviderEventMatched');
        return stream.includes('NotificationDelivered') && marked ? stream : undefined;
      });
      assert.deepEqual(types, ['NotificationRequested', 'NotificationSent', 'NotificationDelivered']);
      assert.deepEqual(await listUnmatched(ctx, 'twilio'), [], 'the stored event is marked matched');
      const marks = (await ctx.events.readStream('provider-events-twilio')).map((e) => e.type);
      assert.deepEqual(marks, ['ProviderEventUnmatched', 'ProviderEventMatched']);
      assert.equal(late.pending, 0);
    } finally {
      late.close();
    }
  }));

  it('one that matches nothing is stored even where no late matcher is given', () => withStores(async (ctx) => {
    assert.equal((await ingestProviderFacts(ctx, [delivered('SM-X')])).unmatched, 1);
    assert.deepEqual((await listUnmatched(ctx, 'twilio')).map((u) => u.data.providerMessageId), ['SM-X']);
  }));

  it('a click stored unmatched keeps its link masked as the logs show URLs, and is recorded so when matched late', () => withStores(async (ctx) => {
    const click: ProviderFact = { provider: 'sendgrid', providerMessageId: 'XMSG', to: 'ada@example.com', fact: { source: 'sendgrid', providerEventId: 'c1', kind: 'clicked', url: 'https://shop.example/reset?email=ada@example.com&token=s3cr3t#access_token=abc' } };
    assert.equal((await ingestProviderFacts(ctx, [click])).unmatched, 1);
    const stored = JSON.stringify((await ctx.events.readStream('provider-events-sendgrid')).map((e) => e.data));
    for (const secret of ['ada@example.com', 's3cr3t', 'access_token=abc']) assert.ok(!stored.includes(secret), `${secret} is not stored`);
    const [open] = await listUnmatched(ctx, 'sendgrid');
    const masked = 'https://shop.example/reset?email=…&token=…#…';
    assert.deepEqual(open?.data.fact, { source: 'sendgrid', providerEventId: 'c1', kind: 'clicked', url: masked });
    // Its send becomes known: the click is recorded on the notification as stored.
    await ctx.events.append(`notification-${id}`, [
      encodeEvent({ type: 'NotificationRequested', data: { notificationId: id, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at } }),
      encodeEvent({ type: 'NotificationSent', data: { notificationId: id, route: 'email', provider: 'sendgrid', deliveries: [{ to: 'a***@e***.com', providerMessageId: 'XMSG' }], rejected: [], at } }),
    ], 'no_stream');
    await applyBatch(ctx.readModels, providerMessages, providerMessages.collection.name, await ctx.events.readAll(), createLogger('silent'));
    assert.deepEqual(await retryUnmatched(ctx, 'sendgrid'), { matched: 1, unmatched: 0 });
    const clicked = (await ctx.events.readStream(`notification-${id}`)).find((e) => e.type === 'NotificationClicked');
    assert.equal(clicked?.data.url, masked);
  }));

  it('one that never matches stays stored for the retry endpoint once its tries are spent, and no more than maxPending wait at once', () => withStores(async (ctx) => {
    const late = new LateMatcher(ctx, createLogger('silent'), { delaysMs: [10, 10], maxPending: 2 });
    try {
      const result = await ingestProviderFacts(ctx, [delivered('SM-A'), delivered('SM-B'), delivered('SM-C')], late);
      assert.equal(result.unmatched, 3);
      assert.equal(late.pending, 2, 'the third is stored but not tried again');
      await eventually(2000, 'tries spent', async () => (late.pending === 0 ? true : undefined));
      assert.deepEqual((await listUnmatched(ctx, 'twilio')).map((u) => u.data.providerMessageId), ['SM-A', 'SM-B', 'SM-C']);
      // Once closed (the server stopping), nothing new waits.
      late.close();
      late.later('twilio', (await listUnmatched(ctx, 'twilio'))[0]!);
      assert.equal(late.pending, 0);
    } finally {
      late.close();
    }
  }));
});
