/**
 * History for the cost curve, and the replay figure. History is written straight through the
 * EventStore port in large concurrent batches (the store group-commits them), not over HTTP:
 * realistic NotificationRequested + NotificationSent pairs in the 10 : 1 : 5 mix, each pair's
 * Sent landing one batch after its Requested so streams interleave in $all as they do live.
 */
import type { EventData, EventStore, RecordedEvent } from '../../ports/eventStore.ts';
import type { ReadModelStore } from '../../ports/readModelStore.ts';
import type { Route } from '../../ports/deliveryProvider.ts';
import { ROUTES } from '../../ports/deliveryProvider.ts';
import { notificationStream } from '../../domain/notification.ts';
import { routeOfPlatform } from '../../domain/channels.ts';
import { deliveryGroup, LANES } from '../../processors/deliveryGroups.ts';
import { applyBatch } from '../../processors/projector.ts';
import { PROJECTIONS } from '../../projections/index.ts';
import { createLogger } from '../../logger.ts';
import { benchUser, channelFor } from '../../../bench/mix.ts';

const BATCH = 2_000;

function pair(i: number, users: number, at: string): { id: string; requested: EventData; sent: EventData[] } {
  const id = `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
  const user = benchUser((i * 7919) % users);
  const channel = channelFor(i);
  const routes: Route[] = channel === 'push' ? user.devices.map((d) => routeOfPlatform(d.platform)) : [channel];
  const content = channel === 'push'
    ? { push: { title: 'Your order shipped', body: 'Order 4711 is on its way and arrives Thursday.', data: { orderId: '4711' } } }
    : channel === 'sms' ? { sms: { body: 'Herald: order 4711 shipped, arrives Thursday.' } }
      : { email: { subject: 'Order 4711 shipped', text: 'Your order 4711 is on its way and arrives Thursday.', html: '<p>Your order <b>4711</b> is on its way.</p>' } };
  const metadata = { appId: 'bootstrap', requestId: id };
  const requested = { type: 'NotificationRequested', data: { notificationId: id, userId: user.userId, channel, category: 'orders', content, routes, priority: 'normal', at }, metadata };
  const provider: Record<Route, string> = { apns: 'apns', fcm: 'fcm', sms: 'twilio', email: 'sendgrid' };
  const sent = routes.map((route) => ({
    type: 'NotificationSent',
    data: { notificationId: id, route, provider: provider[route], deliveries: [{ to: route === 'email' ? 'u***@bench.example' : '***1234', providerMessageId: `msg-${i}-${route}` }], rejected: [], at },
    metadata,
  }));
  return { id, requested, sent };
}

/** Appends notifications [from, to) of history; `progress` is told how many are done. */
export async function prefill(events: EventStore, from: number, to: number, users: number, progress: (done: number) => void = () => undefined): Promise<void> {
  let pending: { id: string; sent: EventData[] }[] = [];
  for (let start = from; start < to || pending.length > 0; start += BATCH) {
    const at = new Date().toISOString();
    const batch = [];
    for (let i = start; i < Math.min(start + BATCH, to); i++) batch.push(pair(i, users, at));
    await Promise.all([
      ...batch.map((p) => events.append(notificationStream(p.id), [p.requested], 'no_stream')),
      ...pending.map((p) => events.append(notificationStream(p.id), p.sent, 0)),
    ]);
    pending = batch;
    progress(Math.min(start + BATCH, to) - from);
  }
}

/**
 * Creates the delivery groups, both lanes of every route, at the end of $all, as a running
 * service would have left them after delivering the history; the processors' own ensure() keeps
 * that checkpoint. (Until 2026-11-27 only the normal lanes: the priority lanes then started at
 * position 0 and scanned the whole history once, during the warm-up.)
 */
export async function groupsAtEnd(events: EventStore): Promise<void> {
  for (const route of ROUTES) {
    for (const lane of LANES) await events.ensurePersistentSubscription(deliveryGroup(route, lane), { filter: { eventTypes: ['NotificationRequested'] }, startFrom: 'end' });
  }
}

/**
 * Builds every read model for the history with the projector's own applyBatch, reading $all once
 * and handing each page to every projection, into `<name><suffix>`. Returns events read.
 */
export async function buildReadModels(events: EventStore, readModels: ReadModelStore, suffix: string, progress: (done: number) => void = () => undefined, page = 5_000): Promise<number> {
  const logger = createLogger('silent');
  for (const p of PROJECTIONS) await readModels.ensureCollection({ ...p.collection, name: p.collection.name + suffix });
  let position = 0;
  let read = 0;
  for (;;) {
    const batch = await events.readAll({ fromPosition: position, maxCount: page });
    if (batch.length === 0) return read;
    for (const p of PROJECTIONS) {
      const types = new Set<string>(p.eventTypes);
      const mine = batch.filter((e: RecordedEvent) => types.has(e.type));
      await applyBatch(readModels, p, p.collection.name + suffix, mine, logger);
    }
    read += batch.length;
    position = batch.at(-1)!.position;
    progress(read);
  }
}
