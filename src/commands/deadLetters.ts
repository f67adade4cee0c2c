import { EventStoreUnavailableError, ParkedEventsUnreadableError, type EventStore } from '../ports/eventStore.ts';
import type { FindQuery, ReadModelStore } from '../ports/readModelStore.ts';
import type { Route } from '../ports/deliveryProvider.ts';
import { ROUTES } from '../ports/deliveryProvider.ts';
import { notificationStream } from '../domain/notification.ts';
import { deadLetters } from '../projections/deadLetters.ts';
import { CALLBACK_GROUP, deliveryGroup, LANES } from '../processors/deliveryGroups.ts';

/** Every group whose parked events are dead letters; given-up status callbacks show as route `callbacks`. */
const GROUPS: { route: Route | 'callbacks'; group: string }[] = [...ROUTES.flatMap((route) => LANES.map((lane) => ({ route, group: deliveryGroup(route, lane) }))), { route: 'callbacks', group: CALLBACK_GROUP }];
import { handle } from './handle.ts';
import { notificationAggregate } from './sendNotification.ts';

export interface DeadLetterFilter {
  channel?: string;
  route?: string;
  reason?: string;
  from?: string;
  to?: string;
}

/** Dead letters newest first (ties by id), and how many match in all. */
export async function findDeadLetters(readModels: ReadModelStore, filter: DeadLetterFilter, page: { limit: number; offset: number; after?: FindQuery['after'] }) {
  const where = Object.fromEntries(Object.entries({ channel: filter.channel, route: filter.route, reason: filter.reason }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  const range = filter.from || filter.to ? { field: 'failedAt', ...(filter.from ? { gte: filter.from } : {}), ...(filter.to ? { lte: filter.to } : {}) } : undefined;
  const query = { where, ...(range ? { range } : {}) };
  const [docs, total] = await Promise.all([
    readModels.find(deadLetters.collection.name, { ...query, orderBy: { field: 'failedAt', direction: 'desc' }, ...page }),
    readModels.count(deadLetters.collection.name, query),
  ]);
  return { docs, total };
}

/**
 * Events a worker could not handle at all (parked by its subscription group), per route. A store
 * that cannot list them throws (ParkedEventsUnreadableError, EventStoreUnavailableError): an
 * empty list would say nothing is parked.
 */
export async function listParkedDeliveries(events: EventStore, limit: number) {
  const lists = await Promise.all(
    GROUPS.map(async ({ route, group }) => {
      const parked = await events.listParked(group, { limit });
      return parked.map((p) => ({ group, route, eventType: p.event.type, stream: p.event.streamName, position: p.event.position, reason: p.reason, parkedAt: new Date(p.parkedAt).toISOString() }));
    }),
  );
  return lists.flat();
}

/** Ids of a redrive that name no notification at all (a typo, another deployment's id). */
export class UnknownNotificationsError extends Error {
  readonly code = 'notification_not_found';
  constructor(readonly notificationIds: readonly string[]) {
    super(`no notification ${notificationIds.slice(0, 10).join(', ')}${notificationIds.length > 10 ? ` and ${notificationIds.length - 10} more` : ''}; nothing was redriven: take the ids from GET /v1/dead-letters`);
  }
}

/**
 * Sends failed routes back to their workers; returns how many were redriven. Every id is checked
 * first: one that names no notification redrives nothing (UnknownNotificationsError), so a
 * caller never gets an error for a request that was carried out in part.
 */
export async function redriveDeadLetters(ctx: { events: EventStore; now: () => Date; metadata?: Record<string, unknown> }, targets: { notificationId: string; route: Route }[]): Promise<number> {
  const unknown: string[] = [];
  for (const { notificationId } of targets) {
    if ((await ctx.events.readStream(notificationStream(notificationId), { maxCount: 1 })).length === 0) unknown.push(notificationId);
  }
  if (unknown.length > 0) throw new UnknownNotificationsError([...new Set(unknown)]);
  let redriven = 0;
  for (const { notificationId, route } of targets) {
    const { events } = await handle(ctx.events, notificationStream(notificationId), notificationAggregate, { type: 'Redrive', data: { notificationId, route } }, ctx);
    redriven += events.length;
  }
  return redriven;
}

export async function replayParkedDeliveries(events: EventStore): Promise<number> {
  let replayed = 0;
  // A group not created yet has nothing parked; credentials that may not touch parked events are said so.
  for (const { group } of GROUPS) {
    replayed += await events.replayParked(group).catch((error: unknown) => {
      if (error instanceof ParkedEventsUnreadableError || error instanceof EventStoreUnavailableError) throw error;
      return 0;
    });
  }
  return replayed;
}
