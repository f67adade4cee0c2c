import { encodeEvent } from '../../src/codec/events.ts';
import type { EventStore } from '../../src/ports/eventStore.ts';

/**
 * User u1 with an email address, and an email requested for them as notification `id`, written
 * straight to the store: what a delivery worker's tests start from.
 */
export async function appendEmailRequest(store: Pick<EventStore, 'append'>, id: string, at = new Date().toISOString()): Promise<void> {
  await appendEmailRequests(store, [id], at);
}

/** User u1 with an email address, and an email requested for them as each of the notifications `ids`. */
export async function appendEmailRequests(store: Pick<EventStore, 'append'>, ids: readonly string[], at = new Date().toISOString()): Promise<void> {
  await store.append('user-u1', [encodeEvent({ type: 'UserProfileUpdated', data: { userId: 'u1', email: 'u1@example.com', phone: null, locale: null, timezone: null, at } })], 'no_stream');
  for (const id of ids) {
    await store.append(`notification-${id}`, [encodeEvent({
      type: 'NotificationRequested',
      data: { notificationId: id, userId: 'u1', channel: 'email', category: 'news', content: { email: { subject: 's', text: 't' } }, routes: ['email'], priority: 'normal', at },
    })], 'no_stream');
  }
}
