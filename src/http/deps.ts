import type { FastifyBaseLogger } from 'fastify';
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { IdGenerator } from '../ports/clock.ts';
import type { Metrics } from '../metrics.ts';
import type { ApiKeys } from './apiKeys.ts';
import type { TrackingConfig } from '../tracking/config.ts';
import type { RateLimit } from '../domain/category.ts';
import type { RetryPolicy } from '../processors/retryPolicy.ts';

export interface AppDeps {
  events: EventStore;
  readModels: ReadModelStore;
  apiKeys: ApiKeys;
  now: () => Date;
  ids: IdGenerator;
  logger: FastifyBaseLogger;
  limits: {
    maxRecipients: number;
    bodyLimitBytes: number;
    /** Requests per minute per app (default 6000). */
    ratePerMinute?: number;
    /** Notifications accepted per app per UTC day (default 1,000,000); 0 turns the quota off. */
    dailySendQuota?: number;
    /** How long a client may take to send a whole request, headers and body (default 30 s; 0: no limit). */
    requestTimeoutMs?: number;
    /** How far ahead `sendAt` may be, in days (default 366): further is a 422, most likely a typo in the year. */
    maxSendAheadDays?: number;
    /** Devices a user may hold (default 100): a registration beyond pushes out the invalidated, then the longest registered. */
    maxDevicesPerUser?: number;
  };
  security?: {
    /** How long a rotated-away key keeps working (default one day). */
    keyGraceSeconds?: number;
    /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
    metricsToken?: string;
  };
  /** Absent: a private registry is made, so /metrics still serves HTTP and process metrics. */
  metrics?: Metrics;
  /** Liveness of background work (subscriptions), reported by /ready next to the store checks. */
  readiness?: () => Promise<Record<string, boolean>>;
  /** Send policy defaults: the rate limit for categories without one of their own. */
  policy?: { defaultRateLimit: RateLimit | null; userRateLimit?: RateLimit | null };
  /** The delivery retry policy, which a resend after an undelivered report follows too (default DEFAULT_RETRY_POLICY). */
  retryPolicy?: RetryPolicy;
  /** The server secret apps' callback secrets derive from (the tracking secret); absent: the callback routes answer 503. */
  callbackSecret?: Buffer;
  /** Email pixel/link secret and webhook keys; absent: no /t/* or /v1/webhooks/* routes. */
  tracking?: TrackingConfig;
}
