/** Settings of the status callbacks to apps (HERALD_CALLBACK_*), read where the callbacks are sent. */
import { z } from 'zod';
import { ConfigError } from '../configError.ts';

export interface CallbackConfig {
  /** One POST's whole time, connect to response body. */
  timeoutMs: number;
  /** POSTs of one batch before it is given up (parked). */
  maxAttempts: number;
  /** Backoff: full jitter under base·2^(attempt−1), capped at maxDelayMs; never sooner than Retry-After. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_CALLBACK_CONFIG: CallbackConfig = { timeoutMs: 5000, maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };

const schema = z.object({
  HERALD_CALLBACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(DEFAULT_CALLBACK_CONFIG.timeoutMs),
  HERALD_CALLBACK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(DEFAULT_CALLBACK_CONFIG.maxAttempts),
  HERALD_CALLBACK_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(1).max(60_000).default(DEFAULT_CALLBACK_CONFIG.baseDelayMs),
});

export function loadCallbackConfig(env: NodeJS.ProcessEnv): CallbackConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid callback configuration; fix these environment variables:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return { timeoutMs: e.HERALD_CALLBACK_TIMEOUT_MS, maxAttempts: e.HERALD_CALLBACK_MAX_ATTEMPTS, baseDelayMs: e.HERALD_CALLBACK_RETRY_BASE_DELAY_MS, maxDelayMs: DEFAULT_CALLBACK_CONFIG.maxDelayMs };
}

/**
 * The longest a batch can take from its first POST to being given up: every attempt's timeout and
 * every wait at the cap, since a receiver's Retry-After is honoured up to it whatever the backoff
 * (6 × 5 s + 5 × 60 s = 330 s with the defaults).
 */
export function callbackWindowMs(c: CallbackConfig): number {
  return c.maxAttempts * c.timeoutMs + (c.maxAttempts - 1) * c.maxDelayMs;
}
