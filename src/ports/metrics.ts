/**
 * What Herald's code reports to metrics, and what metrics read of a projector. Only src/metrics.ts
 * (prom-client) implements and reads them, so processors and HTTP stay testable without a registry.
 */

/** What delivery, retry and dead-letter code reports; `outcome` is e.g. sent, failed, rejected. */
export interface DeliveryMetrics {
  delivery(route: string, provider: string, outcome: string, latencyMs?: number): void;
  retry(route: string): void;
  deadLetter(route: string, reason: string): void;
}

/** What the status-callback lanes report: batches' events delivered, retried or given up (parked). */
export interface CallbackMetrics {
  callbacks(result: 'delivered' | 'retried' | 'given_up', events: number): void;
}

export interface HttpMetrics {
  http(method: string, route: string, status: number, seconds: number): void;
  rejected(reason: 'rate_limited' | 'daily_quota_exceeded'): void;
}

/** What the projection gauges read of a projector: its read models and the position each has applied. */
export interface WatchedProjector {
  readonly projections: readonly { name: string; eventTypes: readonly string[] }[];
  readonly positions: ReadonlyMap<string, number>;
  /** Read models stopped by a fault of their projection's own code. */
  readonly stopped?: ReadonlySet<string>;
  /** Unreadable events each read model skipped. */
  readonly unreadable?: ReadonlyMap<string, number>;
}
