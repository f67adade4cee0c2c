/**
 * What the port's headPosition is on EventStoreDB: the position of the last event that is not a
 * system event (0 when there is none), what a subscription would hand out last. $all's own last
 * position is often a system event's (a group's `$SubscriptionCheckpoint`, written each time it
 * checkpoints), which would keep "head - checkpoint" above 0 while every group is caught up. The
 * client's readAll takes no filter, so $all is read backwards in pages, from the end.
 */
import type { RecordedEvent } from '../../../ports/eventStore.ts';
import { isSystemEvent } from '../../../ports/eventFilter.ts';

/** Events per backwards read when looking for the head past system events. */
const HEAD_PAGE = 100;
/**
 * Pages read at most: a server busy with its own events ($stats, group checkpoints) and no
 * application event for a long while must not make each /metrics scrape read its whole log.
 */
const HEAD_MAX_PAGES = 20;

/** A page of $all read backwards: how many records came, and their events, latest first. */
export interface BackwardsPage {
  count: number;
  events: RecordedEvent[];
}

/**
 * Reads pages backwards from the end, each from the oldest event of the one before. Past
 * HEAD_MAX_PAGES pages of system events only, the oldest position read stands in: at or past the
 * last application event, so a lag measured against it is too high by at most those pages, never
 * hidden.
 */
export async function findHead(readBackwards: (before: number | 'end', max: number) => Promise<BackwardsPage>): Promise<number> {
  let from: number | 'end' = 'end';
  for (let page = 1; ; page++) {
    const { count, events } = await readBackwards(from, HEAD_PAGE);
    const found = events.find((e) => !isSystemEvent(e));
    if (found) return found.position;
    const oldest = events.at(-1);
    if (count < HEAD_PAGE || !oldest) return 0;
    if (page === HEAD_MAX_PAGES) return oldest.position;
    from = oldest.position;
  }
}
