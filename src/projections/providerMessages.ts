import type { Recorded } from '../domain/events.ts';
import type { Projection } from './projection.ts';

/**
 * Which notification a provider's message id belongs to, so a webhook that names only the
 * provider's id (Twilio's MessageSid, SendGrid's sg_message_id) finds its notification.
 *
 * One document per (notification, message id), not per message id: SendGrid gives one
 * X-Message-Id to a whole batched request, so several notifications share it and a lookup
 * that finds more than one is ambiguous rather than silently the last writer. A redrive that
 * sends again adds a document instead of replacing one, so late events for the first send still
 * match. Only SMS and email: push providers send no delivery webhooks.
 */
export type ProviderMessageDoc = {
  providerMessageId: string;
  notificationId: string;
  route: string;
  provider: string;
  sentAt: string;
};

const TRACKED_ROUTES = new Set(['sms', 'email']);

const firstDelivery = (event: Recorded) =>
  event.type === 'NotificationSent' && TRACKED_ROUTES.has(event.data.route) ? event.data.deliveries[0] : undefined;

export function evolveProviderMessage(doc: ProviderMessageDoc | null, event: Recorded): ProviderMessageDoc | null {
  if (event.type !== 'NotificationSent') return doc;
  const delivery = firstDelivery(event);
  if (!delivery) return doc;
  const { notificationId, route, provider, at } = event.data;
  return { providerMessageId: delivery.providerMessageId, notificationId, route, provider, sentAt: at };
}

export const providerMessages: Projection<ProviderMessageDoc> = {
  name: 'provider_messages',
  version: 1,
  collection: { name: 'provider_messages', indexes: ['providerMessageId'] },
  eventTypes: ['NotificationSent'],
  keyOf: (event) => {
    const delivery = firstDelivery(event);
    return delivery ? `${(event.data as { notificationId: string }).notificationId}:${delivery.providerMessageId}` : null;
  },
  evolve: evolveProviderMessage,
  // Keyed by notification and message id: every event of a notification is in its own stream.
  streamLocal: true,
};
