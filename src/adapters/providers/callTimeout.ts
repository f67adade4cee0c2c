/**
 * The one rule for HERALD_<PROVIDER>_TIMEOUT_MS: how long one call to a provider may take before
 * its messages fail as `timeout` (transient: retried with back-off). Read even when the provider's
 * credentials are unset, so a mistyped value fails start-up rather than the day the provider is
 * turned on.
 *
 * Why at most 50 s: a route's delivery group waits for an ack past every call an event can wait
 * behind (deliveryMessageTimeoutMs: twice the rounds at this timeout, at least 60 s), so that no
 * other worker is handed a message whose call is still waiting; 50 s keeps that under two minutes
 * for one round (push, email).
 */
import { z } from 'zod';
import { ConfigError } from '../../configError.ts';

export const CALL_TIMEOUT_MIN_MS = 100;
export const CALL_TIMEOUT_MAX_MS = 50_000;
const callTimeout = z.coerce.number().int().min(CALL_TIMEOUT_MIN_MS).max(CALL_TIMEOUT_MAX_MS);

/** The value of `name` in `env`, or `defaultMs` when unset; a start-up error naming the range otherwise. */
export function callTimeoutFrom(env: NodeJS.ProcessEnv, name: string, defaultMs: number, call: string): number {
  const raw = env[name]?.trim();
  if (!raw) return defaultMs;
  const ms = callTimeout.safeParse(raw);
  if (!ms.success) {
    throw new ConfigError(
      `${name} is "${raw}"; use a whole number of milliseconds from ${CALL_TIMEOUT_MIN_MS} to ${CALL_TIMEOUT_MAX_MS} ` +
        `(default ${defaultMs}): how long ${call} may take before its messages fail as timeout and are retried. ` +
        'The route\'s delivery group waits for an ack past its calls at this timeout, so a longer one keeps its events longer; leave it unset for the default.',
    );
  }
  return ms.data;
}
