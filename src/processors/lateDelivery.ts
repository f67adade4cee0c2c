/**
 * What a delivery checks when it comes later than its request. Expiry: past `expiresAt` nothing
 * is sent. Choices: a notification delivered later than it was requested (scheduled, held for
 * quiet hours or a rate window, retried, redriven, or a first attempt a minute or more after its
 * request) is checked again against the user's choices as they are now: an opt-out or a marketing
 * unsubscribe made in between is honoured, not just the ones made before the request; and an
 * attempt that comes inside the user's quiet hours as they are now (set since, a new time zone, a
 * retry's backoff ending at night) waits for their end, and is checked again then; one that would
 * wait past `expiresAt` is settled as expired instead.
 */
import type { EventStore, PersistentEvent } from '../ports/eventStore.ts';
import type { DeliveryProvider, Route } from '../ports/deliveryProvider.ts';
import { notificationStream, type NotificationEvent, type NotificationState, type RequestData, type SuppressReason } from '../domain/notification.ts';
import type { UserState } from '../domain/user.ts';
import { decideChannel, type ChannelDecision } from '../domain/sendPolicy.ts';
import { loadCategory } from '../commands/categories.ts';
import { handle, type Loaded } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { releaseSlotIfUnsent } from '../commands/releaseSlot.ts';

/**
 * A first attempt this long after its request is late too: the workers were down or far behind,
 * or a parked request was replayed; the user may have opted out meanwhile.
 */
export const LATE_FIRST_ATTEMPT_MS = 60_000;

/** Whether this delivery comes later than its request: an immediate first attempt on time needs no second look. */
export function deliveredLate(request: RequestData, attempt: number, trigger: PersistentEvent, now: Date): boolean {
  // Every DeliveryDue is late: a scheduled send, a retry, or the end of a quiet-hours hold (of a
  // first attempt without sendAt too: the user may have opted out or moved the hours meanwhile).
  const type = trigger.event.type;
  return request.sendAt !== undefined || attempt > 1 || type === 'DeliveryRedriven' || type === 'DeliveryDue' || now.getTime() - trigger.event.created > LATE_FIRST_ATTEMPT_MS;
}

/** What the user's choices as they are now say of this notification: send, suppress, or hold for quiet hours. */
export async function lateDecision(events: EventStore, request: RequestData, user: UserState, now: Date): Promise<ChannelDecision> {
  const category = await loadCategory(events, request.category);
  return decideChannel(user.preferences, category, request.channel, user.profile.timezone, now);
}

/**
 * Holds a route's attempt that came due inside the user's quiet hours until they end; one that
 * would wait past its expiry is settled as expired instead (suppressed, as a request would have
 * been, or this route failed when another route has delivered it: see expire).
 */
export async function holdWhenDue(worker: { events: EventStore; now: () => Date; provider: DeliveryProvider }, job: { notificationId: string; route: Route; attempt: number; until: Date; loaded: Loaded<NotificationState> }): Promise<NotificationEvent[]> {
  const { notificationId, route, attempt, until, loaded } = job;
  const expiresAt = loaded.state.exists ? loaded.state.request.expiresAt : undefined;
  if (expiresAt && until.toISOString() >= expiresAt) return expire(worker, { notificationId, attempt, loaded });
  const held = await handle(worker.events, notificationStream(notificationId), notificationAggregate, { type: 'Hold', data: { notificationId, route, attempt, until: until.toISOString() } }, { now: worker.now, known: loaded });
  return held.events;
}

/**
 * Past its expiry: the notification is suppressed (reason expired) when nothing of it has gone
 * out; when another route already delivered it, this route ends failed with reason expired.
 */
export async function expire(worker: { events: EventStore; now: () => Date; provider: DeliveryProvider }, job: { notificationId: string; attempt: number; loaded: Loaded<NotificationState> }): Promise<NotificationEvent[]> {
  const { events, now } = worker;
  const { notificationId, attempt, loaded } = job;
  const suppressed = await suppressWhenDue(events, { notificationId, reason: 'expired', loaded }, now);
  if (suppressed.length > 0) return suppressed;
  return endAttempt(worker, { notificationId, attempt, reason: 'expired' });
}

/**
 * Ends this attempt of a route, sending nothing, for `reason`: a pending route fails; a retry of a
 * sent route's unsent devices ends, each of them listed with the reason (UnsentDevicesRetried).
 */
export async function endAttempt(worker: { events: EventStore; now: () => Date; provider: DeliveryProvider }, job: { notificationId: string; attempt: number; reason: string }): Promise<NotificationEvent[]> {
  const { events, now, provider } = worker;
  const { notificationId, attempt, reason } = job;
  const outcome = { kind: 'failed' as const, provider: provider.id, reason, permanent: true, rejected: [] };
  return (await handle(events, notificationStream(notificationId), notificationAggregate, { type: 'RecordDelivery', data: { notificationId, route: provider.route, attempt, maxAttempts: attempt, retryAt: now().toISOString(), outcome } }, { now })).events;
}

/**
 * Suppresses a notification found ruled out when due (nothing if a route already sent it), and
 * gives back the rate slot it held once nothing of its request went out.
 */
export async function suppressWhenDue(events: EventStore, job: { notificationId: string; reason: SuppressReason; loaded: Loaded<NotificationState> }, now: () => Date): Promise<NotificationEvent[]> {
  const { notificationId, reason, loaded } = job;
  const suppressed = await handle(events, notificationStream(notificationId), notificationAggregate, { type: 'Suppress', data: { notificationId, reason } }, { now, known: loaded });
  if (suppressed.events.length > 0 && loaded.state.exists) await releaseSlotIfUnsent(events, loaded.state.request, { now });
  return suppressed.events;
}
