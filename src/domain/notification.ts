/**
 * The notification aggregate: one stream per (user, channel) notification. Pure: decide and evolve;
 * time comes in as `now`, ids and retry times come in with the command.
 */
import type { Route } from '../ports/deliveryProvider.ts';
import type { Delivery, NotificationEvent, Rejection, RequestData, Status, SuppressReason, Unsent } from './notificationEvents.ts';
import { exhaustive } from './exhaustive.ts';
import { nextAttempt, type NotificationState, type RouteProgress } from './notificationState.ts';
import { decideTracking, type TrackingFact } from './tracking.ts';
import { reportUndelivered, resendFailed, type ResendTerms } from './resend.ts';

export * from './notificationEvents.ts';
export * from './notificationState.ts';

export const notificationStream = (id: string) => `notification-${id}`;

/** What a route's delivery attempt came to, as the worker saw it. */
export type DeliveryOutcome =
  | { kind: 'sent'; provider: string; deliveries: Delivery[]; rejected: Rejection[]; unsent?: Unsent[] }
  /** `unsent`: on a transient failure, the addresses that failed for a passing reason (a retry of unsent devices keeps them). */
  | { kind: 'failed'; provider: string; reason: string; permanent: boolean; rejected: Rejection[]; unsent?: Unsent[] };

export type NotificationCommand =
  /** `suppress`: the user's choices or a rate limit rule this send out; it is recorded, then suppressed. */
  | { type: 'RequestNotification'; data: RequestData & { suppress?: SuppressReason } }
  /** `retryAt` is when to try again if this transient failure is not the last attempt allowed. */
  | { type: 'RecordDelivery'; data: { notificationId: string; route: Route; attempt: number; maxAttempts: number; retryAt: string; outcome: DeliveryOutcome } }
  | { type: 'MarkDue'; data: { notificationId: string; route: Route; attempt: number } }
  /** The attempt came due inside the user's quiet hours (processors/lateDelivery.ts): it waits until `until`. */
  | { type: 'Hold'; data: { notificationId: string; route: Route; attempt: number; until: string } }
  | { type: 'Redrive'; data: { notificationId: string; route: Route } }
  | { type: 'Cancel'; data: { notificationId: string } }
  /** The user's choices rule out a notification delivered later than requested (processors/lateDelivery.ts). */
  | { type: 'Suppress'; data: { notificationId: string; reason: SuppressReason } }
  | { type: 'RecordOpen'; data: { notificationId: string } }
  /**
   * A tracking fact from the app, an email pixel or link, or a provider webhook; idempotent. With
   * `resend`: a provider's report of a sent message undelivered for a passing reason, acted on
   * (domain/resend.ts) in the same append as the fact, so that neither is kept without the other.
   */
  | { type: 'RecordTracking'; data: { notificationId: string; fact: TrackingFact; resend?: ResendTerms } };

export class NotificationNotFoundError extends Error {
  readonly code = 'notification_not_found';
  constructor(readonly notificationId: string) {
    super(`notification ${notificationId} does not exist`);
  }
}

export class NotificationNotCancellableError extends Error {
  readonly code = 'notification_not_cancellable';
  constructor(readonly notificationId: string, readonly status: Status) {
    super(`notification ${notificationId} is ${status}; only a notification not yet delivered anywhere can be cancelled`);
  }
}

export class NotificationNotDeliveredError extends Error {
  readonly code = 'notification_not_delivered';
  constructor(readonly notificationId: string, readonly status: Status) {
    super(`notification ${notificationId} is ${status} and nothing of it was sent, so it cannot have reached, been opened or clicked; check the id your app reports`);
  }
}

/**
 * Whether an app may report the notification delivered, opened or clicked: a route sent it, or it is
 * still on its way (a push can reach the phone before its provider's answer is recorded). One
 * that was suppressed, cancelled, failed on every route or is still held never reached anyone.
 */
function reachable(state: Extract<NotificationState, { exists: true }>): boolean {
  return state.status === 'requested' || Object.values(state.routes).some((r) => r?.state === 'sent');
}

type Existing = Extract<NotificationState, { exists: true }>;
const settled = (state: Existing) => state.status === 'suppressed' || state.status === 'cancelled';

type RecordDeliveryData = Extract<NotificationCommand, { type: 'RecordDelivery' }>['data'];

/**
 * The outcome of a retry of a sent route's unsent devices. They get the route's retry policy: a
 * passing failure with attempts left is tried again at `retryAt`. An attempt that sent nothing and
 * refused nothing (expired, or none of the devices is the user's any more) ends it, listing them
 * with that reason.
 */
function retryUnsentDevices(waiting: NonNullable<RouteProgress['unsentDevices']>, data: RecordDeliveryData, at: string): NotificationEvent[] {
  const { notificationId, route, attempt, maxAttempts, retryAt, outcome } = data;
  const { provider, rejected } = outcome;
  const notTried = outcome.kind === 'failed' && outcome.permanent && rejected.length === 0;
  const unsent = notTried ? waiting.unsent.map((u) => ({ ...u, reason: outcome.reason })) : (outcome.unsent ?? []);
  const again = !notTried && attempt < maxAttempts && unsent.some((u) => u.tokenDigest !== undefined);
  const deliveries = outcome.kind === 'sent' ? outcome.deliveries : [];
  return [{ type: 'UnsentDevicesRetried', data: { notificationId, route, provider, attempt, deliveries, rejected, unsent, ...(again ? { retryAt } : {}), at } }];
}

function sentEvent(state: Existing, data: RecordDeliveryData, at: string): NotificationEvent {
  const { notificationId, route, attempt, maxAttempts, retryAt, outcome } = data;
  const { provider, rejected } = outcome;
  const unsent = outcome.unsent?.length ? { unsent: outcome.unsent } : {};
  // The devices it did not reach are tried again, alone, as the route would have been.
  const again = attempt < maxAttempts && !settled(state) && outcome.unsent?.some((u) => u.tokenDigest !== undefined) ? { retryAt } : {};
  const deliveries = outcome.kind === 'sent' ? outcome.deliveries : [];
  return { type: 'NotificationSent', data: { notificationId, route, provider, attempt, deliveries, rejected, ...unsent, ...again, at } };
}

function recordDelivery(state: Existing, data: RecordDeliveryData, at: string): NotificationEvent[] {
  const { notificationId, route, attempt, maxAttempts, retryAt, outcome } = data;
  const progress = state.routes[route];
  // A resend after an undelivered report: recorded once, as the attempt the route waits for.
  if (progress?.state === 'sent' && progress.resend) {
    if (progress.resend.attempt !== attempt) return [];
    return outcome.kind === 'sent' ? [sentEvent(state, data, at)] : resendFailed({ notificationId, route, attempt, maxAttempts, retryAt, reason: outcome.reason, permanent: outcome.permanent }, at);
  }
  // Idempotent too: only the retry of unsent devices the route waits for is recorded, once.
  if (progress?.state === 'sent') return progress.unsentDevices && nextAttempt(progress) === attempt ? retryUnsentDevices(progress.unsentDevices, data, at) : [];
  // Idempotent: a redelivered message for an attempt that already has its outcome adds nothing.
  if (!progress || progress.state !== 'pending' || progress.failedAttempts >= attempt) return [];
  const { provider, rejected } = outcome;
  // Cancelled or suppressed while a worker already had it in hand: a send that went out all the
  // same is recorded (the timeline must not hide a message the user got); a failure is not retried.
  if (outcome.kind === 'sent') return [sentEvent(state, data, at)];
  if (settled(state)) return [];
  if (!outcome.permanent && attempt < maxAttempts) {
    return [{ type: 'DeliveryAttemptFailed', data: { notificationId, route, provider, attempt, reason: outcome.reason, retryAt, rejected, at } }];
  }
  return [{ type: 'NotificationFailed', data: { notificationId, route, provider, reason: outcome.reason, permanent: outcome.permanent, attempts: attempt, rejected, at } }];
}

/** An undelivered report acted on: resent, or given up (a resend due past the notification's expiry would only be ended as expired). */
function decideResend(state: Existing, notificationId: string, terms: ResendTerms, now: string): NotificationEvent[] {
  const { expiresAt } = state.request;
  const tooLate = expiresAt !== undefined && Date.parse(expiresAt) <= Date.parse(terms.retryAt);
  return reportUndelivered(state.routes, notificationId, terms, settled(state) || tooLate, now);
}

export function decideNotification(command: NotificationCommand, state: NotificationState, now: string): NotificationEvent[] {
  if (command.type === 'RequestNotification') {
    if (state.exists) return [];
    const { suppress, ...request } = command.data;
    const { notificationId, routes, priority, sendAt } = request;
    const requested: NotificationEvent = { type: 'NotificationRequested', data: { ...request, at: now } };
    if (suppress) return [requested, { type: 'NotificationSuppressed', data: { notificationId, reason: suppress, at: now } }];
    if (routes.length > 0 && priority === 'high' && !(sendAt && sendAt > now)) return [requested, { type: 'NotificationExpedited', data: { notificationId, routes, at: now } }];
    if (routes.length > 0) return [requested];
    return [requested, { type: 'NotificationSuppressed', data: { notificationId, reason: 'no_address', at: now } }];
  }
  if (!state.exists) throw new NotificationNotFoundError(command.data.notificationId);
  const { notificationId } = command.data;
  switch (command.type) {
    case 'RecordDelivery':
      return recordDelivery(state, command.data, now);
    case 'MarkDue': {
      const { route, attempt } = command.data;
      const progress = state.routes[route];
      if (!progress || settled(state) || nextAttempt(progress) !== attempt) return [];
      // Held for quiet hours: due again only once they end (a schedule entry from before the hold,
      // read before the read model caught up, makes nothing due); otherwise once per attempt.
      if (progress.heldUntil !== undefined ? now < progress.heldUntil : progress.dueAttempt >= attempt) return [];
      return [{ type: 'DeliveryDue', data: { notificationId, route, attempt, at: now } }];
    }
    case 'Hold': {
      const { route, attempt, until } = command.data;
      const progress = state.routes[route];
      // Only an attempt not made yet, and not already held: a redelivered event holds nothing twice.
      if (!progress || settled(state) || progress.heldUntil !== undefined || nextAttempt(progress) !== attempt) return [];
      return [{ type: 'DeliveryHeld', data: { notificationId, route, attempt, until, reason: 'quiet_hours', at: now } }];
    }
    case 'Redrive': {
      const progress = state.routes[command.data.route];
      if (progress?.state !== 'failed' || settled(state)) return [];
      return [{ type: 'DeliveryRedriven', data: { notificationId, route: command.data.route, at: now } }];
    }
    case 'Cancel': {
      if (state.status === 'cancelled') return [];
      const untouched = Object.values(state.routes).every((r) => r.state === 'pending');
      if (!untouched || state.status === 'suppressed') throw new NotificationNotCancellableError(notificationId, state.status);
      return [{ type: 'NotificationCancelled', data: { notificationId, at: now } }];
    }
    case 'Suppress': {
      // Too late once a route has delivered it: the rest of it goes out as the user saw it start.
      if (settled(state) || Object.values(state.routes).some((r) => r.state === 'sent')) return [];
      return [{ type: 'NotificationSuppressed', data: { notificationId, reason: command.data.reason, at: now } }];
    }
    case 'RecordOpen':
      if (state.opened) return [];
      if (!reachable(state)) throw new NotificationNotDeliveredError(notificationId, state.status);
      return [{ type: 'NotificationOpened', data: { notificationId, at: now } }];
    case 'RecordTracking': {
      // Providers and Herald's own links report only what was sent; an app may report any id.
      const { fact, resend } = command.data;
      if (fact.source === 'app' && !reachable(state)) throw new NotificationNotDeliveredError(notificationId, state.status);
      return [...decideTracking(state.tracked, notificationId, fact, now), ...(resend ? decideResend(state, notificationId, resend, now) : [])];
    }
    default:
      return exhaustive(command);
  }
}
