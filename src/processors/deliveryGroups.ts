/**
 * Which persistent subscription groups deliver: one per route and lane. The priority lane takes
 * only NotificationExpedited, so an urgent send never waits behind the normal lane's backlog.
 */
export type Lane = 'normal' | 'priority';
export const LANES: readonly Lane[] = ['normal', 'priority'];

/** The events that ask a route's worker (normal lane) to deliver, and which attempt each one is. */
export const DELIVERY_TRIGGERS = ['NotificationRequested', 'DeliveryDue', 'DeliveryRedriven'] as const;

export const deliveryGroup = (route: string, lane: Lane = 'normal') => (lane === 'priority' ? `delivery-${route}-priority` : `delivery-${route}`);

/** Status callbacks to apps (callbackProcessor.ts): their given-up events are parked here, listed and replayed with the deliveries'. */
export const CALLBACK_GROUP = 'callbacks';
