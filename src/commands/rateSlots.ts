import { WrongExpectedRevisionError, type EventStore } from '../ports/eventStore.ts';
import type { RateLimit } from '../domain/category.ts';
import { bucketOf, bucketStart, decideSlot, evolveRateWindow, initialRateWindow, rateWindowStream, type RateSlotTakenEvent } from '../domain/rateWindow.ts';
import { encodeEvent } from '../codec/events.ts';
import { load } from './handle.ts';

/** Windows a deferred notification may move ahead before it is suppressed instead. */
const MAX_DEFERRED_WINDOWS = 7;
const MAX_CONFLICTS = 50;

const locks = new Map<string, Promise<unknown>>();

/**
 * Serialises slot-taking per (user, category) inside this process, so concurrent sends to one user
 * queue instead of conflicting; across processes the expected-revision append still decides.
 */
async function serially<T>(key: string, body: () => Promise<T>): Promise<T> {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(body, body);
  const settled = run.catch(() => undefined);
  locks.set(key, settled);
  try {
    return await run;
  } finally {
    if (locks.get(key) === settled) locks.delete(key);
  }
}

const rateWindow = { initial: initialRateWindow, evolve: evolveRateWindow };

/**
 * The slots of one bucket, folded through the fold cache: a send decodes only the slots taken
 * since the last send to this user and category, not every slot of the window again.
 */
async function slotsIn(store: EventStore, stream: string) {
  const { state, revision } = await load(store, stream, rateWindow);
  return { slots: state.slots, revision };
}

export type SlotOutcome = { kind: 'granted'; at: number } | { kind: 'suppressed' };

/**
 * Takes a slot in the user's window for this category at time `at`, or, over the limit, at the
 * earliest time one frees up ('defer') — or reports 'suppressed'. Idempotent per slotId.
 */
export async function takeSlot(store: EventStore, request: { userId: string; category: string; slotId: string; at: number; limit: RateLimit; now: () => Date }): Promise<SlotOutcome> {
  const { userId, category, slotId, limit } = request;
  return serially(`${userId}\n${category}`, async () => {
    let t = request.at;
    let conflicts = 0;
    for (let windows = 0; windows <= MAX_DEFERRED_WINDOWS; ) {
      const bucket = bucketOf(t, limit);
      const current = await slotsIn(store, rateWindowStream(userId, category, bucket));
      const previous = limit.window === 'sliding' ? (await slotsIn(store, rateWindowStream(userId, category, bucket - 1))).slots : [];
      const mine = [...previous, ...current.slots].find((s) => s.slotId === slotId);
      if (mine) return { kind: 'granted', at: mine.at };
      const decision = decideSlot(t, limit, [...previous, ...current.slots].map((s) => s.at));
      if (decision.kind === 'full') {
        if (limit.overLimit === 'suppress') return { kind: 'suppressed' };
        t = decision.nextFreeAt;
        windows += 1;
        continue;
      }
      const event: RateSlotTakenEvent = { type: 'RateSlotTaken', data: { userId, category, slotId, windowStart: new Date(bucketStart(bucket, limit)).toISOString(), at: new Date(t).toISOString() } };
      try {
        await store.append(rateWindowStream(userId, category, bucket), [encodeEvent(event)], current.revision);
        return { kind: 'granted', at: t };
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || ++conflicts > MAX_CONFLICTS) throw error;
      }
    }
    return { kind: 'suppressed' };
  });
}
