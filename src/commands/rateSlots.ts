import { WrongExpectedRevisionError, type EventStore, type StreamAppend } from '../ports/eventStore.ts';
import type { CategoryPolicy, RateLimit } from '../domain/category.ts';
import { bucketOf, bucketStart, decideSlot, evolveRateWindow, initialRateWindow, rateWindowStream, type RateSlotTakenEvent, type RateWindowState } from '../domain/rateWindow.ts';
import { encodeEvent } from '../codec/events.ts';
import { load } from './handle.ts';
import { serially } from './serially.ts';

/** Windows a deferred notification may move ahead before it is suppressed instead. */
const MAX_DEFERRED_WINDOWS = 7;
const MAX_CONFLICTS = 50;

const rateWindow = { initial: initialRateWindow, evolve: evolveRateWindow };

/**
 * The slots of one bucket, folded through the fold cache: a send decodes only the slots taken
 * since the last send to this user and category, not every slot of the window again.
 */
async function slotsIn(store: EventStore, stream: string) {
  const { state, revision } = await load(store, stream, rateWindow);
  return { ...state, revision };
}

const NO_SLOTS: RateWindowState = initialRateWindow();

export type SlotOutcome = { kind: 'granted'; at: number } | { kind: 'suppressed' };

export interface SlotRequest {
  userId: string;
  category: string;
  slotId: string;
  at: number;
  limit: RateLimit;
}

/**
 * Writes what a slot decision admits. `take` is the append that takes the slot (absent when this
 * slotId already holds one, or when suppressed); the writer appends it first and its own appends
 * after it in one `appendInOrder`, so the slot and the notifications it admits are one commit on
 * the embedded store. A WrongExpectedRevisionError for `take.stream` means another process moved
 * the window: nothing was written, and the slot is decided again.
 */
export type SlotWriter = (outcome: SlotOutcome, take: StreamAppend | undefined) => Promise<void>;

/**
 * Takes a slot in the user's window for this category at time `at`, or, over the limit, at the
 * earliest time one frees up ('defer') — or reports 'suppressed' — and has `write` record it with
 * what it admits. Idempotent per slotId. Serialised per (user, category) in this process, writes
 * included, so concurrent sends to one user queue instead of conflicting.
 */
export async function takeSlot(store: EventStore, request: SlotRequest, write: SlotWriter): Promise<SlotOutcome> {
  return serially(`ratewindow\n${request.userId}\n${request.category}`, async () => {
    let at = request.at;
    for (let conflicts = 0; ; conflicts++) {
      const { outcome, take } = await decideSlotOf(store, { ...request, at });
      try {
        await write(outcome, take);
        return outcome;
      } catch (error) {
        // A later window (the user's) can only send later: take this window's slot at that time instead.
        if (error instanceof SendsLater && error.window === request.category) {
          if (error.at > at && conflicts < MAX_CONFLICTS) {
            at = error.at;
            continue;
          }
          // The windows never agree on a time (each defers past the other, again and again): as when deferred too far.
          const suppressed: SlotOutcome = { kind: 'suppressed' };
          await write(suppressed, undefined);
          return suppressed;
        }
        if (!take || !(error instanceof WrongExpectedRevisionError) || error.stream !== take.stream || conflicts >= MAX_CONFLICTS) throw error;
      }
    }
  });
}

/** Thrown by a writer when a later window defers the send past the time `window` (a category, or ALL_CATEGORIES) granted. */
class SendsLater extends Error {
  constructor(
    readonly at: number,
    readonly window: string,
  ) {
    super(`a later rate window defers this send past the time window ${window} granted`);
  }
}

/** Reads the user's window (and the ones before and after, when sliding) and decides, without writing. */
async function decideSlotOf(store: EventStore, request: SlotRequest): Promise<{ outcome: SlotOutcome; take?: StreamAppend }> {
  const { userId, category, slotId, limit } = request;
  let t = request.at;
  for (let windows = 0; windows <= MAX_DEFERRED_WINDOWS; ) {
    const bucket = bucketOf(t, limit);
    const stream = rateWindowStream(userId, category, bucket);
    const current = await slotsIn(store, stream);
    // Sliding: the window ending at t reaches into the bucket before, and those ending at a slot
    // taken for later (a scheduled send's) into the one after.
    const previous = limit.window === 'sliding' ? await slotsIn(store, rateWindowStream(userId, category, bucket - 1)) : NO_SLOTS;
    const next = limit.window === 'sliding' ? await slotsIn(store, rateWindowStream(userId, category, bucket + 1)) : NO_SLOTS;
    const taken = [...previous.slots, ...current.slots, ...next.slots];
    const mine = taken.find((s) => s.slotId === slotId);
    if (mine) return { outcome: { kind: 'granted', at: mine.at } };
    // A repeat of a request whose notifications were all cancelled: they exist, so it writes nothing, and takes no slot again.
    if (current.released.includes(slotId) || previous.released.includes(slotId) || next.released.includes(slotId)) return { outcome: { kind: 'granted', at: t } };
    const decision = decideSlot(t, limit, taken.map((s) => s.at));
    if (decision.kind === 'full') {
      if (limit.overLimit === 'suppress') return { outcome: { kind: 'suppressed' } };
      t = decision.nextFreeAt;
      windows += 1;
      continue;
    }
    const event: RateSlotTakenEvent = { type: 'RateSlotTaken', data: { userId, category, slotId, windowStart: new Date(bucketStart(bucket, limit)).toISOString(), at: new Date(t).toISOString() } };
    return { outcome: { kind: 'granted', at: t }, take: { stream, events: [encodeEvent(event)], expected: current.revision } };
  }
  return { outcome: { kind: 'suppressed' } };
}

/** A window a send counts against: a category's, or the user's over all of them (ALL_CATEGORIES). */
export interface WindowLimit {
  category: string;
  limit: RateLimit;
}

/** The window that counts every category of a user together (no category name can be `*`). */
export const ALL_CATEGORIES = '*';

/** The windows a send to one user counts against: its category's (or the default), then the user's over all categories. */
export function limitsFor(category: CategoryPolicy, name: string, policy: { defaultRateLimit?: RateLimit | null; userRateLimit?: RateLimit | null }): WindowLimit[] {
  const own = category.rateLimit ?? policy.defaultRateLimit ?? null;
  const limits = own && (!category.transactional || own.appliesToTransactional) ? [{ category: name, limit: own }] : [];
  if (policy.userRateLimit && !category.transactional) limits.push({ category: ALL_CATEGORIES, limit: policy.userRateLimit });
  return limits;
}

/**
 * Takes a slot in each window in turn, each from the time the one before granted, and has
 * `write` record every slot taken with what they admit (nothing taken when any window
 * suppresses). Every slot is taken at the time the send goes: when a later window defers it (the
 * user's is full until 10:30, the category's had room at 10:01), the earlier ones decide again
 * from that time, or a slot taken at 10:01 would leave the category's window free for another
 * send within the hour after the real one. A window another process moved makes the takeSlot
 * that owns it decide again. `notBefore` moves a granted time on as the windows do (the user's
 * quiet hours: a deferral to 22:00 goes at their end instead), and the windows decide again from
 * there, so the slot is taken at the time the send really goes.
 */
export async function takeSlots(store: EventStore, request: { userId: string; slotId: string; at: number }, limits: readonly WindowLimit[], write: (slot: SlotOutcome, takes: StreamAppend[]) => Promise<void>, notBefore: (at: number) => number = (at) => at): Promise<void> {
  const [first, ...rest] = limits;
  if (!first) return write({ kind: 'granted', at: notBefore(request.at) }, []);
  await takeSlot(store, { ...request, category: first.category, limit: first.limit }, async (slot, take) => {
    if (slot.kind === 'suppressed') return write(slot, []);
    await takeSlots(store, { ...request, at: slot.at }, rest, (inner, takes) => {
      if (inner.kind === 'granted' && inner.at > slot.at) throw new SendsLater(inner.at, first.category);
      return write(inner, inner.kind === 'suppressed' ? [] : [...(take ? [take] : []), ...takes]);
    }, notBefore);
  });
}
