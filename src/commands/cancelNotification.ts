import type { EventStore } from '../ports/eventStore.ts';
import { notificationStream } from '../domain/notification.ts';
import { handle } from './handle.ts';
import { notificationAggregate } from './sendNotification.ts';
import { releaseSlotIfUnsent } from './releaseSlot.ts';

/**
 * Cancels a notification not yet delivered anywhere (NotificationNotCancellableError otherwise),
 * and releases its rate slot when nothing of its request reached the user. Idempotent: cancelling
 * again appends nothing, and finishes a release a crash interrupted.
 */
export async function cancelNotification(store: EventStore, notificationId: string, context: { now: () => Date; metadata?: Record<string, unknown> }): Promise<void> {
  const { state } = await handle(store, notificationStream(notificationId), notificationAggregate, { type: 'Cancel', data: { notificationId } }, context);
  if (state.exists) await releaseSlotIfUnsent(store, state.request, context);
}
