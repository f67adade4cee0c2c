import type { Route } from '../ports/deliveryProvider.ts';

export interface RetryPolicy {
  maxAttempts: Record<Route, number>;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  // Push tokens and mailboxes tolerate a long tail of retries; SMS is costly and time-sensitive.
  maxAttempts: { apns: 6, fcm: 6, sms: 4, email: 6 },
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
};

/**
 * Exponential backoff with full jitter (a random delay between 0 and base·2^(attempt−1), capped),
 * never sooner than the provider's Retry-After. Full jitter spreads a burst of failures over the
 * window instead of retrying them all in lock step.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(Math.floor(random() * ceiling), retryAfterMs ?? 0);
}
