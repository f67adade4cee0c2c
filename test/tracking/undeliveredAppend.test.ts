import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SqliteEventStore } from '../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../src/adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { encodeEvent } from '../../src/codec/events.ts';
import type { HeraldEvent } from '../../src/domain/events.ts';
import { providerEventsStream } from '../../src/domain/providerEvents.ts';
import { createLogger } from '../../src/logger.ts';
import { Metrics } from '../../src/metrics.ts';
import { EventStoreUnavailableError, type EventData } from '../../src/ports/eventStore.ts';
import { applyBatch } from '../../src/processors/projector.ts';
import { providerMessages } from '../../src/projections/providerMessages.ts';
import { ingestProviderFacts, listUnmatched, retryUnmatched, type TrackingContext } from '../../src/tracking/ingest.ts';
import type { ProviderFact } from '../../src/tracking/providerFacts.ts';
import { refusing } from '../support/refusing.ts';

const at = '2026-11-29T10:00:00.000Z';
const id = '00000000-0000-4000-8000-0000000000b7';
const stream = `notification-${id}`;
/** Twilio's status callback for SM1: 30003, the handset was off (a passing code, so it is sent again). */
const report = (status: 'undelivered' | 'failed'): ProviderFact => ({ provider: 'twilio', providerMessageId: 'SM1', to: '+14155550123', fact: { source: 'twilio', providerEventId: `SM1:${status}`, kind: 'undelivered', reason: 'twilio_30003' } });

/**
 * An SMS Twilio took (SM1, mapped by provider_messages), with a store whose appends of a resend
 * decision (MessageUndelivered) fail while `failing.on`: the store going away, or its disk filling,
 * just as the report is acted on.
 */
async function withSentSms(body: (ctx: TrackingContext & { metrics: Metrics }, failing: { on: boolean }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-undelivered-'));
  const store = new SqliteEventStore(join(dir, 'e.db'));
  const readModels = new SqliteReadModelStore(join(dir, 'r.db'));
  const failing = { on: true };
  const resendAppend = (method: string, args: readonly unknown[]) => method === 'append' && (args[1] as readonly EventData[]).some((e) => e.type === 'MessageUndelivered');
  const events = refusing(store, (method, args) => failing.on && resendAppend(method, args), () => new EventStoreUnavailableError('events.db: nothing was written (SQLITE_FULL: database or disk is full)'));
  try {
    await readModels.ensureCollection(providerMessages.collection);
    await store.append(stream, ([
      { type: 'NotificationRequested', data: { notificationId: id, userId: 'u1', channel: 'sms', category: 'news', content: { sms: { body: 'hi' } }, routes: ['sms'], priority: 'normal', at } },
      { type: 'NotificationSent', data: { notificationId: id, route: 'sms', provider: 'twilio', attempt: 1, deliveries: [{ to: '***0123', providerMessageId: 'SM1' }], rejected: [], at } },
    ] satisfies HeraldEvent[]).map((e) => encodeEvent(e)), 'no_stream');
    await applyBatch(readModels, providerMessages, providerMessages.collection.name, await store.readAll(), createLogger('silent'));
    await body({ events, readModels, now: () => new Date('2026-11-29T10:00:05.000Z'), random: () => 0.5, metrics: new Metrics({ processMetrics: false }) }, failing);
  } finally {
    await store.close();
    await readModels.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const typesOf = async (ctx: TrackingContext) => (await ctx.events.readStream(stream)).map((e) => e.type);
const counted = async (metrics: Metrics, outcome: string) => Number(new RegExp(`herald_deliveries_total\\{route="sms",provider="twilio",outcome="${outcome}"\\} (\\d+)`).exec(await metrics.registry.metrics())?.[1] ?? 0);

describe('an undelivered SMS report and its resend are appended together or not at all', () => {
  it('a store failing as the resend is appended keeps neither the fact nor the resend; the next report acts on it, once', () => withSentSms(async (ctx, failing) => {
    await assert.rejects(ingestProviderFacts(ctx, [report('undelivered')]), EventStoreUnavailableError);
    // Before: the fact was kept (NotificationUndelivered) and the resend lost, for good.
    assert.deepEqual(await typesOf(ctx), ['NotificationRequested', 'NotificationSent'], 'the fact kept without its resend: Twilio does not retry the callback');
    assert.equal(await counted(ctx.metrics, 'undelivered_retrying'), 0);
    failing.on = false;
    // Twilio follows `undelivered` with `failed` for the same message; repeated, it counts once.
    const result = await ingestProviderFacts(ctx, [report('failed'), report('failed'), report('undelivered')]);
    assert.deepEqual([result.recorded, result.duplicates], [1, 2]);
    const recorded = await ctx.events.readStream(stream);
    assert.deepEqual(recorded.map((e) => e.type), ['NotificationRequested', 'NotificationSent', 'NotificationUndelivered', 'MessageUndelivered']);
    const resend = recorded.at(-1)!;
    assert.deepEqual([resend.data['attempt'], resend.data['providerMessageId'], typeof resend.data['retryAt']], [1, 'SM1', 'string']);
    assert.equal(await counted(ctx.metrics, 'undelivered_retrying'), 1);
  }));

  it('an operator\'s retry of a report stored unmatched does the same: neither while the store fails, both once it is back', () => withSentSms(async (ctx, failing) => {
    const { fact, provider, providerMessageId } = report('undelivered');
    const unmatched = { type: 'ProviderEventUnmatched' as const, data: { provider, providerMessageId, fact, to: '***0123', at: '2026-11-29T10:00:04.000Z' } };
    await ctx.events.append(providerEventsStream('twilio'), [encodeEvent(unmatched)], 'any');
    await assert.rejects(retryUnmatched(ctx, 'twilio'), EventStoreUnavailableError);
    assert.deepEqual(await typesOf(ctx), ['NotificationRequested', 'NotificationSent']);
    assert.equal((await listUnmatched(ctx, 'twilio')).length, 1, 'still open, to be retried');
    failing.on = false;
    assert.deepEqual(await retryUnmatched(ctx, 'twilio'), { matched: 1, unmatched: 0 });
    assert.deepEqual(await retryUnmatched(ctx, 'twilio'), { matched: 0, unmatched: 0 });
    assert.deepEqual(await typesOf(ctx), ['NotificationRequested', 'NotificationSent', 'NotificationUndelivered', 'MessageUndelivered']);
    assert.equal(await counted(ctx.metrics, 'undelivered_retrying'), 1);
  }));
});
