import type { EventStore } from '../ports/eventStore.ts';
import { notificationStream, type NotificationState, type RequestData } from '../domain/notification.ts';
import { decideRelease, evolveRateWindow, initialRateWindow } from '../domain/rateWindow.ts';
import { handle, load } from './handle.ts';
import { notificationAggregate } from './sendNotification.ts';

const rateWindowAggregate = { initial: initialRateWindow, evolve: evolveRateWindow, decide: decideRelease };

const unsent = (state: NotificationState) => state.exists && (state.status === 'cancelled' || state.status === 'suppressed');

/**
 * Releases the rate slot a notification held once it and every notification sharing the slot
 * (the other channels of its request for that user) ended unsent, cancelled or suppressed: a
 * limit counts what reaches the user, so what never did leaves room for another. Call it after
 * the notification's own cancel or suppression is appended. A crash in between leaves the slot
 * held (never one released too many). Two siblings ended at once cannot both miss it: appends are
 * ordered, and each reads the others after its own append, so the later one sees the earlier end;
 * when both see it, the window's expected revision lets only one release through.
 */
export async function releaseSlotIfUnsent(store: EventStore, request: RequestData, context: { now: () => Date; metadata?: Record<string, unknown> }): Promise<void> {
  const slot = request.rateSlot;
  if (!slot) return;
  const others = slot.notificationIds.filter((id) => id !== request.notificationId);
  const loaded = await Promise.all(others.map((id) => load(store, notificationStream(id), notificationAggregate)));
  if (!loaded.every(({ state }) => unsent(state))) return;
  for (const window of slot.windows) await handle(store, window, rateWindowAggregate, { slotId: slot.slotId, notificationIds: slot.notificationIds }, context);
}
