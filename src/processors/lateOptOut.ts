/**
 * A notification delivered later than it was requested (scheduled, held for quiet hours or a
 * rate window, retried, redriven) is checked again against the user's choices as they are now: an
 * opt-out or a marketing unsubscribe made in between is honoured, not just the ones made before
 * the request. Quiet hours are not applied again: a due time already respects them.
 */
import type { EventStore, PersistentEvent } from '../ports/eventStore.ts';
import type { RequestData, SuppressReason } from '../domain/notification.ts';
import type { UserState } from '../domain/user.ts';
import { decideChannel } from '../domain/sendPolicy.ts';
import { loadCategory } from '../commands/categories.ts';

/** Whether this delivery comes later than its request: an immediate first attempt needs no second look. */
export function deliveredLate(request: RequestData, attempt: number, trigger: PersistentEvent): boolean {
  return request.sendAt !== undefined || attempt > 1 || trigger.event.type === 'DeliveryRedriven';
}

/** The reason the user's choices now rule this notification out, or null. */
export async function lateOptOut(events: EventStore, request: RequestData, user: UserState, now: Date): Promise<SuppressReason | null> {
  const category = await loadCategory(events, request.category);
  const decision = decideChannel(user.preferences, category, request.channel, user.profile.timezone, now);
  return decision.kind === 'suppress' ? decision.reason : null;
}
