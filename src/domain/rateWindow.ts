/**
 * Rate windows: at most N notifications per user and category per window. Each window bucket is
 * a stream (`ratewindow-<user>-<category>-<bucket>`); taking a slot is an append with the expected
 * revision, so two processes can never both take the last slot. A sliding window reads the
 * current and the previous bucket (buckets are one window long). A slot whose notifications all
 * ended unsent (cancelled, suppressed) is released: it no longer counts, and the user may be sent
 * another in its place.
 */
import type { RateLimit } from './category.ts';

export const rateWindowStream = (userId: string, category: string, bucket: number) => `ratewindow-${userId}-${category}-${bucket}`;

type SlotRef = { userId: string; category: string; slotId: string; windowStart: string; at: string };
export type RateSlotTakenEvent = { type: 'RateSlotTaken'; data: SlotRef };
/** `at`: when it was released; `notificationIds`: the notifications it admitted, none of them sent. */
export type RateSlotReleasedEvent = { type: 'RateSlotReleased'; data: SlotRef & { notificationIds: string[] } };
export type RateWindowEvent = RateSlotTakenEvent | RateSlotReleasedEvent;

/** The slots held in one window bucket, in the order they were taken, and the ids of those released. */
export interface RateWindowState {
  slots: readonly { slotId: string; at: number; taken: SlotRef }[];
  released: readonly string[];
}

export const initialRateWindow = (): RateWindowState => ({ slots: [], released: [] });

export function evolveRateWindow(state: RateWindowState, event: RateWindowEvent): RateWindowState {
  if (event.type === 'RateSlotReleased') return { slots: state.slots.filter((s) => s.slotId !== event.data.slotId), released: [...state.released, event.data.slotId] };
  return { ...state, slots: [...state.slots, { slotId: event.data.slotId, at: Date.parse(event.data.at), taken: event.data }] };
}

/** Releases a held slot once; a slot this bucket does not hold (released already, or never taken here) stays as it is. */
export function decideRelease(release: { slotId: string; notificationIds: string[] }, state: RateWindowState, now: string): RateSlotReleasedEvent[] {
  const held = state.slots.find((s) => s.slotId === release.slotId);
  if (!held) return [];
  const { userId, category, slotId, windowStart } = held.taken;
  return [{ type: 'RateSlotReleased', data: { userId, category, slotId, windowStart, notificationIds: release.notificationIds, at: now } }];
}

export const bucketOf = (t: number, limit: RateLimit) => Math.floor(t / (limit.windowSeconds * 1000));
export const bucketStart = (bucket: number, limit: RateLimit) => bucket * limit.windowSeconds * 1000;

export type SlotDecision = { kind: 'granted'; at: number } | { kind: 'full'; nextFreeAt: number };

/**
 * Whether a slot is free at time `t`, given the slot times already taken in this bucket and the
 * ones around it (for sliding windows the one before and the one after). Fixed windows count only
 * this bucket. A sliding window holds at most `max` slots wherever it lies: a slot at `t` must fit
 * both the window ending at `t` and every window ending at a slot already taken for later (a
 * scheduled or deferred send's), which counted `t` too.
 */
export function decideSlot(t: number, limit: RateLimit, taken: readonly number[]): SlotDecision {
  const bucket = bucketOf(t, limit);
  if (limit.window === 'fixed') {
    const counted = taken.filter((s) => bucketOf(s, limit) === bucket).length;
    return counted < limit.max ? { kind: 'granted', at: t } : { kind: 'full', nextFreeAt: bucketStart(bucket + 1, limit) };
  }
  const windowMs = limit.windowSeconds * 1000;
  const inWindowEnding = (u: number) => taken.filter((s) => s > u - windowMs && s <= u).length;
  const fits = (at: number) => inWindowEnding(at) < limit.max && taken.every((u) => u < at || u >= at + windowMs || inWindowEnding(u) < limit.max);
  if (fits(t)) return { kind: 'granted', at: t };
  // A time fits again only once a slot has left the windows holding it: just past a slot's window.
  const nextFreeAt = taken.map((s) => s + windowMs + 1).filter((c) => c > t).sort((a, b) => a - b).find(fits);
  return { kind: 'full', nextFreeAt: nextFreeAt ?? Math.max(t, ...taken) + windowMs + 1 };
}
