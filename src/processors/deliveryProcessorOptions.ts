import type { DeliveryProvider } from '../ports/deliveryProvider.ts';
import type { EventStore } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { DeliveryMetrics } from '../ports/metrics.ts';
import type { EmailTrackingOptions } from '../tracking/emailTracking.ts';
import type { ListUnsubscribeOptions } from '../tracking/listUnsubscribe.ts';
import type { RateLimiter } from './rateLimiter.ts';
import type { RetryPolicy } from './retryPolicy.ts';
import type { Lane } from './deliveryGroups.ts';

/** What one route's delivery worker (deliveryProcessor.ts) is given. */
export interface DeliveryProcessorOptions {
  events: EventStore;
  provider: DeliveryProvider;
  logger: Logger;
  now: () => Date;
  /** How long to gather messages into one provider call (FCM sendEach, SendGrid personalizations). */
  batchWindowMs?: number;
  concurrency?: number;
  ratePerSecond?: number;
  retryPolicy?: RetryPolicy;
  random?: () => number;
  /** 'priority' consumes only NotificationExpedited, in its own group. Default 'normal'. */
  lane?: Lane;
  /** Deliveries, retries and dead letters for /metrics. */
  metrics?: DeliveryMetrics;
  /** Adds the open pixel and signed click links to email HTML (src/tracking); absent: sent as given. */
  emailTracking?: EmailTrackingOptions;
  /** Adds List-Unsubscribe headers to email of categories the user can opt out of (src/tracking/listUnsubscribe.ts). */
  listUnsubscribe?: ListUnsubscribeOptions;
  /** How long the group waits for an event's ack at least (60 s; shorter in tests): raised past the provider's calls (deliveryMessageTimeoutMs). */
  messageTimeoutMs?: number;
  /** The route's rate limiter, shared with its other lane (made here when absent and a rate is set). */
  limiter?: RateLimiter;
}
