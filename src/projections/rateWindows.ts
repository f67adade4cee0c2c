import type { Recorded } from '../domain/events.ts';
import type { Projection } from './projection.ts';

export type RateWindowDoc = { userId: string; category: string; windowStart: string; count: number; lastAt: string };

/**
 * Slots held per user, category and window bucket: what the rate limits have let through. A slot
 * released (its notifications cancelled or suppressed unsent) counts no more.
 */
export const rateWindows: Projection<RateWindowDoc> = {
  name: 'rate_windows',
  version: 1,
  collection: { name: 'rate_windows', indexes: [['userId', 'windowStart'], ['category', 'windowStart']] },
  eventTypes: ['RateSlotTaken', 'RateSlotReleased'],
  keyOf: (event) => (event.type === 'RateSlotTaken' || event.type === 'RateSlotReleased' ? `${event.data.userId}|${event.data.category}|${event.data.windowStart}` : null),
  evolve: (doc: RateWindowDoc | null, event: Recorded) => {
    if (event.type === 'RateSlotReleased') return doc && { ...doc, count: Math.max(0, doc.count - 1) };
    if (event.type !== 'RateSlotTaken') return doc;
    const { userId, category, windowStart, at } = event.data;
    return { userId, category, windowStart, count: (doc?.count ?? 0) + 1, lastAt: at };
  },
};
