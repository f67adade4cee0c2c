/**
 * How long the `callbacks` group waits for an event's ack, and how many events one app's lane may
 * hold meanwhile: one rule, the delivery workers' (deliveryInFlight.ts), a lane takes no more than
 * it can deliver in half the group's message timeout, every batch counted at its worst.
 *
 * The arithmetic, with the defaults (5 s timeout, 6 attempts, waits of at most 60 s):
 * - a batch at its worst (callbackWindowMs) is every attempt timing out and every wait at 60 s
 *   (a receiver answering `Retry-After: 60`): 6 × 5 s + 5 × 60 s = 330 s, so w = 330 s;
 * - an event taken while `n` events wait in its lane is acked (delivered or parked) after the
 *   batch being sent and the ⌈(n + 1) / 50⌉ batches from the queue up to its own: at most
 *   (1 + ⌈(n + 1) / 50⌉) · w. Kept within half the timeout T, the lane holds at most
 *   H = ⌊T / 2w⌋ batches, the one being sent among them: (H − 1) · 50 events waiting;
 * - so the timeout is made from what a lane may hold, PER_APP_BACKLOG (1,000 waiting, 20 batches,
 *   and the one out: H = 21): T = 2 · 21 · 330 s = 13,860 s, 3 h 51 min. Never under 300 s, for
 *   what the lanes do not count (an event prepared through a store outage).
 * A shorter T (a test's) does not break the rule, it shrinks the lanes: with T = 4 s and w = 1 s,
 * H = 2, one batch out and 50 waiting. Half the timeout is the margin for what the worst case
 * leaves out: a batch split where the app's callback changed, an ack through a slow store.
 *
 * Healthy receivers are not held back by any of it: their lanes keep the 1,000 events they had.
 * The timeout only matters when a lane truly holds an event that long; the group then hands it
 * out again (to another worker: a second POST) and, after ten times, parks it though it was sent.
 */
import { callbackWindowMs, type CallbackConfig } from '../callbacks/config.ts';
import { MAX_BATCH } from './callbackLane.ts';

/** Events one app's lane may hold waiting; past it, new ones are parked at once (replayable) rather than fill the group's in-flight window for everyone. */
export const PER_APP_BACKLOG = 1000;
/** The group's message timeout never goes under it (what it was before lanes were counted). */
const MIN_MESSAGE_TIMEOUT_MS = 300_000;

/** The group's message timeout: long enough for a full lane at the worst, twice over. */
export function callbackMessageTimeoutMs(c: CallbackConfig): number {
  return Math.max(MIN_MESSAGE_TIMEOUT_MS, 2 * (PER_APP_BACKLOG / MAX_BATCH + 1) * callbackWindowMs(c));
}

/**
 * A timeout asked for (tests set short ones): at least two batches at their worst, twice over, so
 * that a lane may hold the batch it sends and one more.
 */
export function atLeastTwoBatches(c: CallbackConfig, messageTimeoutMs: number): number {
  return Math.max(messageTimeoutMs, 4 * callbackWindowMs(c));
}

/** The events a lane may hold waiting (besides the batch it sends) so that each is acked within half of `messageTimeoutMs`. */
export function laneHoldLimit(c: CallbackConfig, messageTimeoutMs: number): number {
  const batches = Math.floor(messageTimeoutMs / (2 * callbackWindowMs(c)));
  return Math.max(1, (batches - 1) * MAX_BATCH);
}

export interface CallbackHold {
  messageTimeoutMs: number;
  /** The events a lane may hold waiting, besides the batch it sends. */
  laneLimit: number;
}

/** The group's message timeout (the default, or one asked for: at least two batches at the worst) and what a lane may hold under it. */
export function callbackHold(c: CallbackConfig, asked?: number): CallbackHold {
  const messageTimeoutMs = asked === undefined ? callbackMessageTimeoutMs(c) : atLeastTwoBatches(c, asked);
  return { messageTimeoutMs, laneLimit: laneHoldLimit(c, messageTimeoutMs) };
}
