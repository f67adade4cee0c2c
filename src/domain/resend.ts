/**
 * Sending a whole route again after its provider reported the message undelivered for a passing
 * reason (Twilio's status callback: 30003 handset off, 30008 unknown error, …), under the route's
 * retry policy. Pure. Only a report on the route's latest message counts, once: Twilio repeats
 * callbacks and may report both `undelivered` and `failed`, and an older attempt's message says
 * nothing about the latest one.
 */
import type { Route } from '../ports/deliveryProvider.ts';
import type { NotificationEvent } from './notificationEvents.ts';

/** What the route's progress keeps for this: see RouteProgress. */
export interface ResendProgress {
  state: 'pending' | 'sent' | 'failed';
  latestMessage?: { id: string; attempt: number };
  resend?: { attempt: number };
  resends?: number;
}

/**
 * At most this many resends after undelivered reports, whatever attempts the route has left. Each
 * resend is a new paid message, and some passing codes do not say that the first never arrived
 * (30008 unknown error): a handset that stays off for hours must not collect a message per attempt.
 */
export const MAX_RESENDS = 2;

/**
 * A report older than this when it is matched (one stored unmatched, matched again by an operator
 * with POST /v1/tracking/unmatched/retry) is recorded and given up: a resend that late is worth
 * less than the message it costs, and may surprise a user who has moved on.
 */
export const MAX_REPORT_AGE_MS = 60 * 60_000;

/**
 * The least wait before a resend (the route's backoff when longer): `firstMs` before the first, ten
 * times that before the second. A report comes once the carrier gave up on the message, and a
 * handset that was off a moment ago is rarely back within seconds. A time-critical message (a
 * sign-in code) should carry an expiry: past it nothing is resent.
 */
export function resendFloorMs(firstMs: number, resendsSoFar: number): number {
  return resendsSoFar === 0 ? firstMs : firstMs * 10;
}

/**
 * What the tracking layer worked out for a passing undelivered report on a route's message
 * (RecordTracking's `resend`): the decider acts on it in the same append as the report's fact.
 */
export interface ResendTerms {
  providerMessageId: string;
  reason: string;
  maxAttempts: number;
  /** When to send again if attempts are left (the route's backoff after the reported attempt). */
  retryAt: string;
}

/** The route whose latest message this is, if any. */
export function routeOfMessage(routes: Partial<Record<Route, ResendProgress>>, providerMessageId: string): Route | undefined {
  return (Object.keys(routes) as Route[]).find((r) => routes[r]?.state === 'sent' && routes[r]?.latestMessage?.id === providerMessageId);
}

/**
 * A passing undelivered report: the route is sent again at `retryAt` while attempts and resends
 * (MAX_RESENDS) are left, otherwise given up (a MessageUndelivered without retryAt). Nothing for a report on another
 * message, or one already acted on.
 */
export function reportUndelivered(routes: Partial<Record<Route, ResendProgress>>, notificationId: string, terms: ResendTerms, settled: boolean, at: string): NotificationEvent[] {
  const { providerMessageId, reason, maxAttempts, retryAt } = terms;
  const route = routeOfMessage(routes, providerMessageId);
  const latest = route && routes[route]?.latestMessage;
  if (!route || !latest) return [];
  const again = !settled && latest.attempt < maxAttempts && (routes[route]?.resends ?? 0) < MAX_RESENDS ? { retryAt } : {};
  return [{ type: 'MessageUndelivered', data: { notificationId, route, attempt: latest.attempt, reason, providerMessageId, ...again, at } }];
}

/** A resend that did not go out (failed, or not made: expired, opted out since): again while attempts are left and the failure may pass. */
export function resendFailed(data: { notificationId: string; route: Route; attempt: number; maxAttempts: number; retryAt: string; reason: string; permanent: boolean }, at: string): NotificationEvent[] {
  const { notificationId, route, attempt, maxAttempts, retryAt, reason, permanent } = data;
  const again = !permanent && attempt < maxAttempts ? { retryAt } : {};
  return [{ type: 'MessageUndelivered', data: { notificationId, route, attempt, reason, ...again, at } }];
}
