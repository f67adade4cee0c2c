/**
 * How long a delivery group waits for an event's ack before handing it out again, at the least.
 * A route whose provider calls may take longer gets longer (deliveryMessageTimeoutMs).
 */
export const MESSAGE_TIMEOUT_MS = 60_000;
/** What an event's time in a worker holds besides its waits and calls: the batch window, the outcome's append and ack. */
export const SETTLE_MARGIN_MS = 1_000;

/** Events a worker asks for at a time before its rate is counted: two provider batches, at least 64. */
function wantedInFlight(maxBatchSize: number): number {
  return Math.max(maxBatchSize * 2, 64);
}

/**
 * Events the group hands this worker at a time: two provider batches, at least 64, but no more
 * than the worker can send within half the message timeout at its rate. A single Twilio long code
 * sends one SMS a second: 64 events taken at once would leave the last ones waiting past the
 * 60 s timeout, each handed out again (and, after ten, parked) while it waits its turn.
 */
export function deliveryMaxInFlight(maxBatchSize: number, ratePerSecond: number | undefined, messageTimeoutMs: number): number {
  const wanted = wantedInFlight(maxBatchSize);
  if (ratePerSecond === undefined) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor((ratePerSecond * messageTimeoutMs) / 2000)));
}

/**
 * The group's message timeout for a route: `atLeast` (MESSAGE_TIMEOUT_MS, or a test's), raised so
 * that an event a worker holds in full batches does not outlast it (one held longer all the same,
 * behind batches of one or a user's many devices, is handed back unsent: batchSend.ts). An event is held from its take to its ack: its
 * wait for the rate (at most half the timeout: deliveryMaxInFlight), its wait for one of the
 * `concurrency` calls and its own call, and the margin. The calls it may wait behind are the
 * rounds the events in flight make, ⌈in flight / (batch × concurrency)⌉, each at most the
 * provider's `callBoundMs`: so the timeout is at least twice rounds × bound + margin. A Twilio
 * route (one SMS a call, 10 at a time, 64 in flight, 10 s each) makes 7 rounds: 142 s, where 60 s
 * let an SMS still in a slow call be handed to another worker and sent twice. A provider that
 * knows no bound (the sandbox) keeps `atLeast`.
 */
export function deliveryMessageTimeoutMs(p: { maxBatchSize: number; concurrency: number; callBoundMs?: number }, atLeast = MESSAGE_TIMEOUT_MS): number {
  if (p.callBoundMs === undefined) return atLeast;
  const rounds = Math.ceil(wantedInFlight(p.maxBatchSize) / (p.maxBatchSize * Math.max(1, p.concurrency)));
  return Math.max(atLeast, 2 * (rounds * p.callBoundMs + SETTLE_MARGIN_MS));
}
