/**
 * An undelivered report on a message the provider had taken, for a reason that may pass (Twilio
 * 30003: the handset was off): the route is sent again under its retry policy (domain/resend.ts),
 * planned by the delivery worker from the user as they are then, as any retry is. What is worked
 * out here (the retry time and attempt limit, which need the clock and the policy) goes with the
 * report's own tracking fact in one RecordTracking command, so both are appended at once or not at all.
 */
import type { Route } from '../ports/deliveryProvider.ts';
import type { NotificationState } from '../domain/notification.ts';
import { MAX_REPORT_AGE_MS, resendFloorMs, routeOfMessage, type ResendTerms } from '../domain/resend.ts';
import type { TrackingFact } from '../domain/tracking.ts';
import { DEFAULT_RESEND_DELAY_MS, DEFAULT_RETRY_POLICY, retryDelayMs } from '../processors/retryPolicy.ts';
import type { TrackingContext } from './ingest.ts';
import { passingUndelivered, type TrackingProvider } from './providerFacts.ts';

/** The resend a report asks for: when it is a passing one about a route's latest message, else undefined. */
export function resendTerms(ctx: TrackingContext, state: NotificationState, item: { provider: TrackingProvider; providerMessageId?: string; fact: TrackingFact; at?: string }): { route: Route; terms: ResendTerms } | undefined {
  const { provider, providerMessageId, fact } = item;
  if (!providerMessageId || fact.kind !== 'undelivered' || !passingUndelivered(provider, fact) || !state.exists) return undefined;
  const route = routeOfMessage(state.routes, providerMessageId);
  const progress = route ? state.routes[route] : undefined;
  const latest = progress?.latestMessage;
  if (!route || !progress || !latest) return undefined;
  const policy = ctx.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const backoff = retryDelayMs(policy, latest.attempt, undefined, ctx.random ?? Math.random);
  const retryAt = new Date(ctx.now().getTime() + Math.max(backoff, resendFloorMs(policy.resendDelayMs ?? DEFAULT_RESEND_DELAY_MS, progress.resends ?? 0))).toISOString();
  // A report stored unmatched and matched much later (POST /v1/tracking/unmatched/retry) is recorded and given up.
  const late = item.at !== undefined && ctx.now().getTime() - Date.parse(item.at) > MAX_REPORT_AGE_MS;
  return { route, terms: { providerMessageId, reason: fact.reason ?? 'undelivered', maxAttempts: late ? 0 : policy.maxAttempts[route], retryAt } };
}
