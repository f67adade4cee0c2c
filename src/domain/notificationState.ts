/**
 * The notification aggregate's state and how its events evolve it (pure). decide is in
 * notification.ts, which re-exports all of this.
 */
import type { Route } from '../ports/deliveryProvider.ts';
import type { Delivery, NotificationEvent, RequestData, Status, Unsent } from './notificationEvents.ts';
import { trackingKeys } from './tracking.ts';
import { exhaustive } from './exhaustive.ts';

export type RouteState = 'pending' | 'sent' | 'failed';

export interface RouteProgress {
  state: RouteState;
  /** Attempts that ended (failed) so far. */
  failedAttempts: number;
  /** Highest attempt made due by the scheduler. */
  dueAttempt: number;
  /** Set while the next attempt waits out the user's quiet hours: until then no event sends it. */
  heldUntil?: string;
  /**
   * On a sent route, the user's devices it has not reached yet, still to be tried again (alone),
   * and the last attempt made at the route: the next one is `attempt + 1`.
   */
  unsentDevices?: { unsent: Unsent[]; attempt: number };
  /**
   * On a sent route, its latest message (the provider's id) and the attempt that sent it, until an
   * undelivered report on it was acted on: a report on any other message is about an older one.
   */
  latestMessage?: { id: string; attempt: number };
  /** On a sent route whose latest message was reported undelivered: the whole route is sent again as this attempt. */
  resend?: { attempt: number };
  /** How many times undelivered reports made the route be sent again (MAX_RESENDS caps it). */
  resends?: number;
}

export type NotificationState =
  | { exists: false }
  | { exists: true; request: RequestData; status: Status; routes: Partial<Record<Route, RouteProgress>>; opened: boolean; tracked: string[] };

export const initialNotificationState = (): NotificationState => ({ exists: false });

/** Overall status from the routes: sent when any route delivered, failed when all failed. */
export function statusOf(routes: Partial<Record<Route, { state: RouteState }>>, current: Status): Status {
  return statusFrom(Object.values(routes).map((r) => r.state), current);
}

/** The same from the routes' states alone. */
export function statusFrom(states: readonly string[], current: Status): Status {
  if (current === 'suppressed' || current === 'cancelled') return current;
  if (states.includes('sent')) return 'sent';
  if (states.length > 0 && states.every((s) => s === 'failed')) return 'failed';
  return current === 'scheduled' ? 'scheduled' : 'requested';
}

function withRoute(state: Extract<NotificationState, { exists: true }>, route: Route, change: Partial<RouteProgress>): Extract<NotificationState, { exists: true }> {
  const current = state.routes[route] ?? { state: 'pending', failedAttempts: 0, dueAttempt: 0 };
  const routes = { ...state.routes, [route]: { ...current, ...change } };
  return { ...state, routes, status: statusOf(routes, state.status) };
}

export function evolveNotification(state: NotificationState, event: NotificationEvent): NotificationState {
  if (event.type === 'NotificationRequested') {
    const { at, ...request } = event.data;
    const routes = Object.fromEntries(request.routes.map((r) => [r, { state: 'pending' as const, failedAttempts: 0, dueAttempt: 0 }]));
    return { exists: true, request, status: request.sendAt && request.sendAt > at ? 'scheduled' : 'requested', routes, opened: false, tracked: [] };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'NotificationSuppressed':
      return { ...state, status: 'suppressed' };
    case 'NotificationCancelled':
      return { ...state, status: 'cancelled' };
    case 'NotificationSent':
      return withRoute(state, event.data.route, { state: 'sent', unsentDevices: stillUnsent(event.data), latestMessage: latestOf(event.data), resend: undefined });
    case 'MessageUndelivered':
      return withRoute(state, event.data.route, { latestMessage: undefined, resend: event.data.retryAt === undefined ? undefined : { attempt: event.data.attempt + 1 }, resends: resendsAfter(state.routes[event.data.route], event.data) });
    case 'UnsentDevicesRetried':
      return withRoute(state, event.data.route, { unsentDevices: stillUnsent(event.data) });
    case 'NotificationFailed':
      return withRoute(state, event.data.route, { state: 'failed', failedAttempts: event.data.attempts ?? (state.routes[event.data.route]?.failedAttempts ?? 0) + 1 });
    case 'DeliveryAttemptFailed':
      return withRoute(state, event.data.route, { failedAttempts: event.data.attempt });
    case 'DeliveryDue': {
      const next = withRoute(state, event.data.route, { dueAttempt: event.data.attempt, heldUntil: undefined });
      return next.status === 'scheduled' ? { ...next, status: 'requested' } : next;
    }
    case 'DeliveryHeld': {
      // The attempt is due again when the hold ends: the scheduler marks it due a second time (MarkDue).
      const next = withRoute(state, event.data.route, { heldUntil: event.data.until });
      return next.status === 'requested' ? { ...next, status: 'scheduled' } : next;
    }
    case 'DeliveryRedriven':
      return withRoute({ ...state, status: state.status === 'failed' ? 'requested' : state.status }, event.data.route, { state: 'pending', failedAttempts: 0, dueAttempt: 0, heldUntil: undefined });
    case 'NotificationOpened':
      return { ...state, opened: true, tracked: [...state.tracked, ...trackingKeys(event)] };
    case 'NotificationDelivered':
    case 'NotificationClicked':
    case 'NotificationBounced':
    case 'NotificationUnsubscribed':
    case 'NotificationMarkedAsSpam':
    case 'NotificationUndelivered':
      return { ...state, tracked: [...state.tracked, ...trackingKeys(event)] };
    case 'NotificationExpedited':
      return state;
    default:
      return exhaustive(event);
  }
}

/** The devices a send or retry left to try again: only with a retry time, and only those it can pick out again. */
function stillUnsent(data: { attempt?: number; unsent?: Unsent[]; retryAt?: string }): RouteProgress['unsentDevices'] {
  const unsent = data.retryAt === undefined ? [] : (data.unsent ?? []).filter((u) => u.tokenDigest !== undefined);
  return unsent.length > 0 ? { unsent, attempt: data.attempt ?? 1 } : undefined;
}

/** A report acted on with a resend counts one more; a resend's own transient failure retries the same one. */
function resendsAfter(progress: RouteProgress | undefined, data: { providerMessageId?: string; retryAt?: string }): number | undefined {
  const before = progress?.resends;
  return data.providerMessageId !== undefined && data.retryAt !== undefined ? (before ?? 0) + 1 : before;
}

function latestOf(data: { attempt?: number; deliveries: Delivery[] }): RouteProgress['latestMessage'] {
  const id = data.deliveries[0]?.providerMessageId;
  return id === undefined ? undefined : { id, attempt: data.attempt ?? 1 };
}

/**
 * The attempt a route waits for: the next after its failed ones while pending, the next retry of
 * its unsent devices once sent, or its resend after an undelivered report; none when it is settled.
 */
export function nextAttempt(progress: RouteProgress | undefined): number | undefined {
  if (progress?.state === 'pending') return progress.failedAttempts + 1;
  if (progress?.state === 'sent' && progress.resend) return progress.resend.attempt;
  if (progress?.state === 'sent' && progress.unsentDevices) return progress.unsentDevices.attempt + 1;
  return undefined;
}

