import type { TrackingContext } from '../tracking/ingest.ts';
import type { AppDeps } from './deps.ts';

/**
 * The one TrackingContext of the HTTP routes that record provider and recipient facts (webhooks,
 * tracking, unsubscribe): a fact matched on any of them resends under the deployment's retry
 * policy and is counted in /metrics, whichever route matched it.
 */
export function trackingContext(deps: AppDeps): TrackingContext {
  return { events: deps.events, readModels: deps.readModels, now: deps.now, ...(deps.retryPolicy ? { retryPolicy: deps.retryPolicy } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}) };
}
