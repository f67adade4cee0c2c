/** Our push message in FCM HTTP v1 shape, for Android and web push alike. */
import type { Message } from 'firebase-admin/messaging';
import type { DeliveryMessage, PushContent } from '../../../ports/deliveryProvider.ts';

type FcmDeliveryMessage = DeliveryMessage & { route: 'fcm'; content: PushContent };

export function isFcmMessage(message: DeliveryMessage): message is FcmDeliveryMessage {
  return message.route === 'fcm';
}

/** FCM keeps a message for an offline device at most 28 days. */
const MAX_TTL_MS = 28 * 86_400_000;

/** A web push Topic header: at most 32 characters of the URL-safe base64 alphabet (RFC 8030). */
const WEB_PUSH_TOPIC = /^[A-Za-z0-9_-]{1,32}$/;

export function toFcmMessage(message: FcmDeliveryMessage, now = Date.now()): Message {
  const { data, collapseKey } = message.content;
  const fcm: Message = { token: message.to };
  if (data) fcm.data = data;
  if (message.content.silent) {
    // A data message: no notification block, so the app gets the data and shows nothing for it.
    // A browser is different: its service worker must show a notification for each push (Chrome
    // shows a generic one if it does not).
    if (collapseKey) fcm.android = { collapseKey };
  } else {
    const { title, body, sound, badge, link } = message.content;
    fcm.notification = { title, body };
    // Android 8+ plays what the app's notification channel says; these are for the devices before and the channel's default.
    const notification = {
      ...(sound === undefined ? { defaultSound: true } : sound === null ? {} : { sound }),
      ...(badge === undefined ? {} : { notificationCount: badge }),
      // The tag replaces a notification still shown; the collapse key, one not yet delivered.
      ...(collapseKey ? { tag: collapseKey } : {}),
    };
    fcm.android = { notification, ...(collapseKey ? { collapseKey } : {}) };
    // The page a web push opens when clicked (Android ignores webpush).
    if (link) fcm.webpush = { fcmOptions: { link } };
  }
  if (collapseKey && WEB_PUSH_TOPIC.test(collapseKey)) fcm.webpush = { ...fcm.webpush, headers: { Topic: collapseKey } };
  // Left unset, FCM picks its own default (high for notification messages on Android).
  if (message.priority) {
    fcm.android = { ...fcm.android, priority: message.priority };
    fcm.webpush = { ...fcm.webpush, headers: { ...fcm.webpush?.headers, Urgency: message.priority } };
  }
  // Time to live: FCM (and the browser's push service) drop it for a device still offline by then.
  if (message.expiresAt) {
    const ttl = Math.min(Math.max(Date.parse(message.expiresAt) - now, 0), MAX_TTL_MS);
    fcm.android = { ...fcm.android, ttl };
    fcm.webpush = { ...fcm.webpush, headers: { ...fcm.webpush?.headers, TTL: String(Math.floor(ttl / 1000)) } };
  }
  return fcm;
}
