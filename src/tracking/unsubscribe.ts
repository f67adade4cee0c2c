/**
 * What a one-click unsubscribe (the List-Unsubscribe link, listUnsubscribe.ts) does. The
 * notification's user is opted out of the notification's category by email: a preferences patch,
 * the same one `PATCH /v1/users/:userId/preferences` makes, so the app's settings page shows it
 * and the user can opt in again there. The notification records NotificationUnsubscribed (source
 * `list_unsubscribe`) for analytics. Both are idempotent: mail clients may send the POST twice.
 * Later email of that category is suppressed (`category_opted_out`), including email already
 * scheduled or held, which is checked again at its turn (processors/lateDelivery.ts).
 */
import { load } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { handleUserCommand } from '../commands/users.ts';
import { NotificationNotFoundError, notificationStream } from '../domain/notification.ts';
import { recordTracking, type TrackingContext } from './ingest.ts';

/** The category the notification belongs to; throws NotificationNotFoundError. */
export async function categoryOf(ctx: TrackingContext, notificationId: string): Promise<{ userId: string; category: string }> {
  const { state } = await load(ctx.events, notificationStream(notificationId), notificationAggregate);
  if (!state.exists) throw new NotificationNotFoundError(notificationId);
  return { userId: state.request.userId, category: state.request.category };
}

/** Opts the notification's user out of its category by email; returns the category. */
export async function unsubscribeFromCategory(ctx: TrackingContext, notificationId: string): Promise<string> {
  const { userId, category } = await categoryOf(ctx, notificationId);
  const metadata = { source: 'list_unsubscribe', notificationId };
  await handleUserCommand({ store: ctx.events, now: ctx.now, metadata }, { type: 'PatchPreferences', data: { userId, patch: { categoryChannels: { [category]: { email: false } } } } });
  await recordTracking(ctx, notificationId, { kind: 'unsubscribed', source: 'list_unsubscribe' }, metadata);
  return category;
}
