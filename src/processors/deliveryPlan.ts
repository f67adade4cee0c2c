import type { DeliveryMessage, DeliveryProvider } from '../ports/deliveryProvider.ts';
import type { EventStore, PersistentEvent } from '../ports/eventStore.ts';
import { nextAttempt, notificationStream, type NotificationEvent, type NotificationState, type RouteProgress } from '../domain/notification.ts';
import { addressesFor } from '../domain/userAddresses.ts';
import { addressDigest } from '../mask.ts';
import { load, type Loaded } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { loadUser } from '../commands/users.ts';
import type { EmailTrackingOptions } from '../tracking/emailTracking.ts';
import type { ListUnsubscribeOptions } from '../tracking/listUnsubscribe.ts';
import { outgoingEmail } from '../tracking/outgoingEmail.ts';
import { attemptOf } from './deliveryAttempt.ts';
import { deliveredLate, endAttempt, expire, holdWhenDue, lateDecision, suppressWhenDue } from './lateDelivery.ts';
import type { Lane } from './deliveryGroups.ts';

/** One notification's messages for one provider call, with what settling them needs. */
export interface Job {
  pe: PersistentEvent;
  notificationId: string;
  userId: string;
  attempt: number;
  messages: DeliveryMessage[];
  /** The stream as read before sending: recording the outcome needs no second read. */
  loaded: Loaded<NotificationState>;
  /** When that read was made (performance.now()): a job that waited long since is checked again before it goes out. */
  readAt: number;
}

/** What a worker does with an event it took: nothing, what was settled without a send, or a send. */
export type Plan = { kind: 'skip' } | { kind: 'settled'; events: readonly NotificationEvent[] } | { kind: 'send'; job: Job };

export interface PlanContext {
  events: EventStore;
  provider: DeliveryProvider;
  now: () => Date;
  lane?: Lane;
  emailTracking?: EmailTrackingOptions;
  listUnsubscribe?: ListUnsubscribeOptions;
}

const SKIP: Plan = { kind: 'skip' };

/**
 * Whether the route still waits for this attempt: a pending route any attempt not yet made (a
 * request's, a retry's, a redrive's); a sent one only the next retry of its unsent devices, or its
 * resend after an undelivered report.
 */
function waitsFor(progress: RouteProgress, attempt: number): boolean {
  return progress.state === 'pending' ? progress.failedAttempts < attempt : progress.state === 'sent' && nextAttempt(progress) === attempt;
}

/**
 * On a sent route, the unsent devices alone, and only while they are still the user's: never
 * again a device that has it, nor one removed or invalidated since.
 */
function onlyUnsent(addresses: string[], progress: RouteProgress): string[] {
  // A resend after an undelivered report goes to the user's address as it is now, as a first send would.
  if (progress.state !== 'sent' || progress.resend) return addresses;
  const wanted = new Set(progress.unsentDevices?.unsent.map((u) => u.tokenDigest));
  return addresses.filter((to) => wanted.has(addressDigest(to)));
}

/**
 * Decides whether the event needs a send at all. At-least-once delivery: an event for an attempt
 * already made, or for a notification cancelled, suppressed or settled meanwhile, sends nothing.
 * Past its expiry, or late and ruled out by the user's choices as they are now, it is settled here.
 * `waited`: planned again for a job that waited its turn (waitedJobs.ts), which is late whatever
 * its trigger says.
 */
export async function planDelivery(o: PlanContext, pe: PersistentEvent, waited = false): Promise<Plan> {
  const route = o.provider.route;
  const wanted = attemptOf(pe, route, o.lane ?? 'normal');
  if (!wanted) return SKIP;
  const { notificationId, attempt } = wanted;
  const loaded = await load(o.events, notificationStream(notificationId), notificationAggregate);
  const readAt = performance.now();
  const { state } = loaded;
  const progress = state.exists ? state.routes[route] : undefined;
  // Held for quiet hours: only the DeliveryDue made when they end (which lifts the hold) sends it.
  if (!state.exists || !progress || state.status === 'suppressed' || state.status === 'cancelled' || progress.heldUntil !== undefined || !waitsFor(progress, attempt)) return SKIP;
  const { userId, channel, content, priority, expiresAt } = state.request;
  if (expiresAt && o.now().toISOString() >= expiresAt) return { kind: 'settled', events: await expire(o, { notificationId, attempt, loaded }) };
  const user = await loadUser(o.events, userId);
  if (waited || deliveredLate(state.request, attempt, pe, o.now())) {
    const decision = await lateDecision(o.events, state.request, user, o.now());
    // A hold never sends now, even when another worker recorded it first; a suppression that comes
    // too late (a route already delivered it) lets the rest go out.
    if (decision.kind === 'hold') return { kind: 'settled', events: await holdWhenDue(o, { notificationId, route, attempt, until: decision.until, loaded }) };
    const suppressed = decision.kind === 'suppress' ? await suppressWhenDue(o.events, { notificationId, reason: decision.reason, loaded }, o.now) : [];
    if (suppressed.length > 0) return { kind: 'settled', events: suppressed };
    // A retry of the devices a sent push missed is a send of its own, minutes later: an opt-out
    // made since is honoured there (the devices end unsent with its reason), not overridden.
    if (decision.kind === 'suppress' && progress.state === 'sent') return { kind: 'settled', events: await endAttempt(o, { notificationId, attempt, reason: decision.reason }) };
  }
  const addresses = onlyUnsent(addressesFor(user, route), progress);
  const outgoing = route === 'email' && content.email ? outgoingEmail(content.email, state.request, o) : { content: content[channel] };
  const messages = addresses.map((to) => ({ route, notificationId, to, ...outgoing, priority, ...(expiresAt ? { expiresAt } : {}) }) as DeliveryMessage);
  return { kind: 'send', job: { pe, notificationId, userId, attempt, messages, loaded, readAt } };
}
