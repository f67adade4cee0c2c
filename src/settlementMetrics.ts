/** The delivery metrics a settlement's events stand for (no prom-client here: see metrics.ts). */
import type { DeliveryMetrics } from './ports/metrics.ts';

/**
 * Turns the events one delivery settlement appended into counts: sent (with latency from the
 * event that asked for this attempt), a failed attempt that will be retried, or a route that
 * failed for good (dead letter). Reading the decider's events keeps the metrics in step with
 * the retry policy instead of re-deriving it.
 */
export function recordSettlement(metrics: DeliveryMetrics, route: string, provider: string, appended: readonly { type: string; data: unknown }[], latencyMs: number): void {
  for (const e of appended) {
    if (e.type === 'NotificationSent') {
      metrics.delivery(route, provider, 'sent', latencyMs);
      // Reached some of the user's devices, not all: the others failed for a passing reason (and are retried when it has retryAt).
      const { unsent, retryAt } = e.data as { unsent?: unknown[]; retryAt?: string };
      if (unsent?.length) metrics.delivery(route, provider, 'partly_sent');
      if (retryAt !== undefined) metrics.retry(route);
    }
    // A retry of a sent route's unsent devices: tried again later, or ended with each device settled or some given up.
    if (e.type === 'UnsentDevicesRetried') {
      const { unsent, retryAt } = e.data as { unsent: unknown[]; retryAt?: string };
      if (retryAt !== undefined) {
        metrics.delivery(route, provider, 'retrying');
        metrics.retry(route);
      } else metrics.delivery(route, provider, unsent.length > 0 ? 'unsent_given_up' : 'unsent_settled');
    }
    // The provider reported the message undelivered for a passing reason (or its resend did not go
    // out): the route is sent again later, or given up.
    if (e.type === 'MessageUndelivered') {
      if ((e.data as { retryAt?: string }).retryAt !== undefined) {
        metrics.delivery(route, provider, 'undelivered_retrying');
        metrics.retry(route);
      } else metrics.delivery(route, provider, 'undelivered_given_up');
    }
    // Not sent after all, on purpose: expired, or the user opted out since the request (lateDelivery.ts).
    if (e.type === 'NotificationSuppressed') metrics.delivery(route, provider, 'suppressed');
    // Came due inside the user's quiet hours: waits for their end, then is delivered again.
    if (e.type === 'DeliveryHeld') metrics.delivery(route, provider, 'held');
    if (e.type === 'DeliveryAttemptFailed') {
      metrics.delivery(route, provider, 'retrying');
      metrics.retry(route);
    }
    if (e.type === 'NotificationFailed') {
      const { reason, permanent } = e.data as { reason: string; permanent: boolean };
      metrics.delivery(route, provider, permanent ? 'rejected' : 'failed');
      // Reasons are provider codes; the cap guards the label set against a free-text reason.
      metrics.deadLetter(route, reason.slice(0, 64));
    }
  }
}
