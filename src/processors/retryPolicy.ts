import type { Route } from '../ports/deliveryProvider.ts';

export interface RetryPolicy {
  maxAttempts: Record<Route, number>;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The least wait before the first resend of a message its provider reported undelivered for a
   * passing reason (domain/resend.ts); the second waits at least ten times that.
   */
  resendDelayMs?: number;
}

/**
 * Enough attempts to ride out a provider's outage of minutes without an operator: the delays'
 * ceilings (1 s, 2 s, 4 s, … up to maxDelayMs) add up to about 32 minutes over push's and
 * email's 11 retries and 8.5 minutes over SMS's 9 (about half that on average, with full jitter).
 * With 6 and 4 attempts, as before 2026-11-28, they added up to 31 and 7 seconds: a minute's
 * outage dead-lettered everything sent in it, and the 15-minute cap was never reached. SMS gets
 * fewer: a text is more often worthless late (a one-time code), and `expiresAt` says so per message.
 */
/** RetryPolicy.resendDelayMs unless configured (HERALD_RESEND_DELAY_MS). */
export const DEFAULT_RESEND_DELAY_MS = 60_000;

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: { apns: 12, fcm: 12, sms: 10, email: 12 },
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  resendDelayMs: DEFAULT_RESEND_DELAY_MS,
};

/** The longest a route can be retried before it fails: the sum of the delays' ceilings. */
export function retryWindowMs(policy: RetryPolicy, route: Route): number {
  let total = 0;
  for (let attempt = 1; attempt < policy.maxAttempts[route]; attempt++) total += Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return total;
}

/** The longest Retry-After honoured: a day. A provider's larger value (or a garbled one) is read as that. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

/**
 * Exponential backoff with full jitter (a random delay between 0 and base·2^(attempt−1), capped),
 * never sooner than the provider's Retry-After (up to a day). Full jitter spreads a burst of
 * failures over the window instead of retrying them all in lock step.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs: number | undefined, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(Math.floor(random() * ceiling), Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}
