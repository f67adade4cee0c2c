/** How long a delivery group waits for an event's ack before handing it out again. */
export const MESSAGE_TIMEOUT_MS = 60_000;

/**
 * Events the group hands this worker at a time: two provider batches, at least 64, but no more
 * than the worker can send within half the message timeout at its rate. A single Twilio long code
 * sends one SMS a second: 64 events taken at once would leave the last ones waiting past the
 * 60 s timeout, each handed out again (and, after ten, parked) while it waits its turn.
 */
export function deliveryMaxInFlight(maxBatchSize: number, ratePerSecond: number | undefined, messageTimeoutMs: number): number {
  const wanted = Math.max(maxBatchSize * 2, 64);
  if (ratePerSecond === undefined) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor((ratePerSecond * messageTimeoutMs) / 2000)));
}
