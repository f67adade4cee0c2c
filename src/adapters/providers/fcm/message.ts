/** Our push message in FCM HTTP v1 shape, for Android and web push alike. */
import type { Message } from 'firebase-admin/messaging';
import type { DeliveryMessage, PushContent } from '../../../ports/deliveryProvider.ts';

type FcmDeliveryMessage = DeliveryMessage & { route: 'fcm'; content: PushContent };

export function isFcmMessage(message: DeliveryMessage): message is FcmDeliveryMessage {
  return message.route === 'fcm';
}

/** FCM keeps a message for an offline device at most 28 days. */
const MAX_TTL_MS = 28 * 86_400_000;

export function toFcmMessage(message: FcmDeliveryMessage, now = Date.now()): Message {
  const { title, body, data } = message.content;
  const fcm: Message = { token: message.to, notification: { title, body } };
  if (data) fcm.data = data;
  // Left unset, FCM picks its own default (high for notification messages on Android).
  if (message.priority) {
    fcm.android = { priority: message.priority };
    fcm.webpush = { headers: { Urgency: message.priority } };
  }
  // Time to live: FCM (and the browser's push service) drop it for a device still offline by then.
  if (message.expiresAt) {
    const ttl = Math.min(Math.max(Date.parse(message.expiresAt) - now, 0), MAX_TTL_MS);
    fcm.android = { ...fcm.android, ttl };
    fcm.webpush = { ...fcm.webpush, headers: { ...fcm.webpush?.headers, TTL: String(Math.floor(ttl / 1000)) } };
  }
  return fcm;
}
