/** Our push message as an APNs notification: an alert, or a background push for a silent one. */
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
  // apns-collapse-id: a newer push with this id replaces the one on the device.
  if (message.content.collapseKey) note.collapseId = message.content.collapseKey;
  // Custom keys sit beside `aps`; a data key called "aps" would be overwritten by the SDK.
  note.payload = { ...message.content.data };
  if (message.content.silent) {
    // A background push: aps holds only content-available, and Apple takes it at priority 5 only
    // (10 is refused for the background type), so the sender's priority does not apply.
    note.pushType = 'background';
    note.priority = 5;
    note.contentAvailable = true;
  } else {
    note.pushType = 'alert';
    // 10 = deliver now; 5 = when convenient for the device's battery (Apple's only two values for alerts).
    note.priority = message.priority === 'normal' ? 5 : 10;
    const { title, body, sound, badge } = message.content;
    note.alert = { title, body };
    // Without aps.sound iOS shows the banner in silence: the system sound unless the sender said otherwise.
    if (sound !== null) note.sound = sound ?? 'default';
    if (badge !== undefined) note.badge = badge;
  }
  // apns-expiration: APNs keeps a push for an offline device until then, and no longer.
  if (message.expiresAt) note.expiry = Math.floor(Date.parse(message.expiresAt) / 1000);
  return note;
}
