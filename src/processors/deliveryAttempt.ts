import type { Route } from '../ports/deliveryProvider.ts';
import type { PersistentEvent } from '../ports/eventStore.ts';
import { decodeEvent } from '../codec/events.ts';
import type { Lane } from './deliveryGroups.ts';

/** Which attempt of `route` a delivery group's event asks for, or null when it is not for that lane's worker now. */
export function attemptOf(pe: PersistentEvent, route: Route, lane: Lane): { notificationId: string; attempt: number } | null {
  // The group's filter already keeps other routes' events out; this stays as a second guard,
  // settled before paying for validation.
  const raw = pe.event.data as { routes?: unknown; route?: unknown };
  if (Array.isArray(raw.routes) ? !raw.routes.includes(route) : raw.route !== route) return null;
  const event = decodeEvent(pe.event);
  if (event?.type === 'NotificationExpedited') return lane === 'priority' && event.data.routes.includes(route) ? { notificationId: event.data.notificationId, attempt: 1 } : null;
  if (event?.type === 'NotificationRequested') {
    const { sendAt, at, routes, notificationId, priority } = event.data;
    // A scheduled send waits for the scheduler's DeliveryDue; a high-priority one goes by its own lane.
    const now = !(sendAt && sendAt > at);
    return routes.includes(route) && now && priority !== 'high' ? { notificationId, attempt: 1 } : null;
  }
  if (event?.type === 'DeliveryDue' && event.data.route === route) return { notificationId: event.data.notificationId, attempt: event.data.attempt };
  if (event?.type === 'DeliveryRedriven' && event.data.route === route) return { notificationId: event.data.notificationId, attempt: 1 };
  return null;
}
