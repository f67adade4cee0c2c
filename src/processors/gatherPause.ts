/**
 * How long the follower pauses between batches, so that a busy log's commits carry more events:
 * the batch size it reads at most, the pause's bounds, and the pause for a batch of a given size.
 */

/** Events read per batch at most: a follower catching up reads (and commits) this many at a time. */
export const BATCH = 5000;

export interface Gather {
  /** The pause after a small batch: how stale a read model gets under a trickle of events. */
  minMs: number;
  /** The longest pause, reached under load: how stale a read model gets at most while busy. */
  maxMs: number;
}

/** Pause per event of the last batch: the pause reaches its longest at 4,000 events a second. */
const MS_PER_EVENT = 0.25;

/**
 * How long to wait before reading the next batch, given how many events the last one held. A
 * commit costs less per document the more it carries: each one rewrites every index page its
 * documents touch, and the per-user index of the notification log puts nearly every document on a
 * page of its own. So the busier the log, the longer the pause and the larger the next commit, up
 * to `maxMs`; a trickle is applied within `minMs`, and a full batch (catching up) not at all.
 */
export function gatherPause(events: number, gather: Gather, maxBatch = BATCH): number {
  if (events >= maxBatch || gather.maxMs <= 0) return 0;
  return Math.min(gather.maxMs, Math.max(gather.minMs, events * MS_PER_EVENT));
}
