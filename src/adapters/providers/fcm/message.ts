/** Our push message in FCM HTTP v1 shape, for Android and web push alike. */
import type { Message } from 'firebase-admin/messaging';
import type { DeliveryMessage, PushContent } from '../../../ports/deliveryProvider.ts';

type FcmDeliveryMessage = DeliveryMessage & { route: 'fcm'; content: PushContent };

export function isFcmMessage(message: DeliveryMessage): message is FcmDeliveryMessage {
  return message.route === 'fcm';
}

export function toFcmMessage(message: FcmDeliveryMessage): Message {
  const { title, body, data } = message.content;
  const fcm: Message = { token: message.to, notification: { title, body } };
  if (data) fcm.data = data;
  // Left unset, FCM picks its own default (high for notification messages on Android).
  if (message.priority) {
    fcm.android = { priority: message.priority };
    fcm.webpush = { headers: { Urgency: message.priority } };
  }
  return fcm;
}
