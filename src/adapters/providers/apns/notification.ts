/** Our push message as an APNs alert notification. */
import { randomUUID } from 'node:crypto';
import apn from '@parse/node-apn';
import type { DeliveryMessage, PushContent } from '../../../ports/deliveryProvider.ts';

export type ApnsDeliveryMessage = DeliveryMessage & { route: 'apns'; content: PushContent };

export function isApnsMessage(message: DeliveryMessage): message is ApnsDeliveryMessage {
  return message.route === 'apns';
}

/**
 * Device tokens are hex. Checking here also keeps anything else out of the request path
 * (`/3/device/<token>`), where a slash would address a different resource.
 */
export function isDeviceToken(token: string): boolean {
  return /^[0-9a-fA-F]{32,200}$/.test(token);
}

export function toNotification(message: ApnsDeliveryMessage, bundleId: string): apn.Notification {
  const note = new apn.Notification();
  // Our own apns-id, so the provider message id is known even if a response lacks the header.
  note.id = randomUUID();
  note.topic = bundleId;
  note.pushType = 'alert';
  // 10 = deliver now; 5 = when convenient for the device's battery (Apple's only two values for alerts).
  note.priority = message.priority === 'normal' ? 5 : 10;
  const { title, body, sound, badge, collapseKey } = message.content;
  note.alert = { title, body };
  // Without aps.sound iOS shows the banner in silence: the system sound unless the sender said otherwise.
  if (sound !== null) note.sound = sound ?? 'default';
  if (badge !== undefined) note.badge = badge;
  // apns-collapse-id: a newer push with this id replaces the one on the device.
  if (collapseKey) note.collapseId = collapseKey;
  // Custom keys sit beside `aps`; a data key called "aps" would be overwritten by the SDK.
  note.payload = { ...message.content.data };
  // apns-expiration: APNs keeps a push for an offline device until then, and no longer.
  if (message.expiresAt) note.expiry = Math.floor(Date.parse(message.expiresAt) / 1000);
  return note;
}
