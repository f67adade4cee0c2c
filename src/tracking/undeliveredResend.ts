/**
 * An undelivered report on a message the provider had taken, for a reason that may pass (Twilio
 * 30003: the handset was off): the route is sent again under its retry policy (domain/resend.ts),
 * planned by the delivery worker from the user as they are then, as any retry is.
 */
import { handle, load } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { notificationStream, type NotificationEvent } from '../domain/notification.ts';
import { MAX_REPORT_AGE_MS, resendFloorMs, routeOfMessage } from '../domain/resend.ts';
import type { TrackingFact } from '../domain/tracking.ts';
import { recordSettlement } from '../settlementMetrics.ts';
import { DEFAULT_RESEND_DELAY_MS, DEFAULT_RETRY_POLICY, retryDelayMs } from '../processors/retryPolicy.ts';
import type { TrackingContext } from './ingest.ts';
import { passingUndelivered, type TrackingProvider } from './providerFacts.ts';

/** Acts on the report when it is a passing one about the route's latest message; returns what it appended. */
export async function resendIfPassing(ctx: TrackingContext, notificationId: string, item: { provider: TrackingProvider; providerMessageId?: string; fact: TrackingFact; at?: string }): Promise<NotificationEvent[]> {
  const { provider, providerMessageId, fact } = item;
  if (!providerMessageId || fact.kind !== 'undelivered' || !passingUndelivered(provider, fact)) return [];
  const stream = notificationStream(notificationId);
  const loaded = await load(ctx.events, stream, notificationAggregate);
  const route = loaded.state.exists ? routeOfMessage(loaded.state.routes, providerMessageId) : undefined;
  const progress = route && loaded.state.exists ? loaded.state.routes[route] : undefined;
  const latest = progress?.latestMessage;
  if (!route || !latest) return [];
  const policy = ctx.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const backoff = retryDelayMs(policy, latest.attempt, undefined, ctx.random ?? Math.random);
  const retryAt = new Date(ctx.now().getTime() + Math.max(backoff, resendFloorMs(policy.resendDelayMs ?? DEFAULT_RESEND_DELAY_MS, progress.resends ?? 0))).toISOString();
  // A report stored unmatched and matched much later (POST /v1/tracking/unmatched/retry) is recorded and given up.
  const late = item.at !== undefined && ctx.now().getTime() - Date.parse(item.at) > MAX_REPORT_AGE_MS;
  const data = { notificationId, providerMessageId, reason: fact.reason ?? 'undelivered', maxAttempts: late ? 0 : policy.maxAttempts[route], retryAt };
  const { events } = await handle(ctx.events, stream, notificationAggregate, { type: 'ReportUndelivered', data }, { now: ctx.now, known: loaded, metadata: { provider } });
  if (ctx.metrics) recordSettlement(ctx.metrics, route, provider, events, 0);
  return events;
}
