import type { EmailContent, PushContent, Route, SmsContent } from '../ports/deliveryProvider.ts';

/** What a sender asks for; a channel maps onto one or more routes when the notification is made. */
export type Channel = 'push' | 'sms' | 'email';
export const CHANNELS: readonly Channel[] = ['push', 'sms', 'email'];

export type Platform = 'ios' | 'android' | 'web';

export interface ChannelContent {
  push?: PushContent;
  sms?: SmsContent;
  email?: EmailContent;
}

export type { Route };

/** iOS devices go through APNs; Android and web push through FCM. */
export function routeOfPlatform(platform: Platform): Route {
  return platform === 'ios' ? 'apns' : 'fcm';
}

export function channelOfRoute(route: Route): Channel {
  return route === 'apns' || route === 'fcm' ? 'push' : route;
}
