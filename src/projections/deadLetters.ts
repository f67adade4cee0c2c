import { channelOfRoute } from '../domain/channels.ts';
import type { Recorded } from '../domain/events.ts';
import type { Projection } from './projection.ts';

/** A route that ended failed: after its last attempt, or at once on a permanent rejection. */
export type DeadLetterDoc = {
  id: string;
  notificationId: string;
  route: string;
  channel: string;
  provider: string;
  reason: string;
  permanent: boolean;
  attempts: number;
  failedAt: string;
};

export const deadLetterId = (notificationId: string, route: string) => `${notificationId}:${route}`;

export function evolveDeadLetter(doc: DeadLetterDoc | null, event: Recorded): DeadLetterDoc | null {
  switch (event.type) {
    case 'NotificationFailed': {
      const { notificationId, route, provider, reason, permanent, attempts, at } = event.data;
      return { id: deadLetterId(notificationId, route), notificationId, route, channel: channelOfRoute(route), provider, reason, permanent, attempts: attempts ?? 1, failedAt: at };
    }
    case 'DeliveryRedriven':
    case 'NotificationSent':
      return null;
    default:
      return doc;
  }
}

export const deadLetters: Projection<DeadLetterDoc> = {
  name: 'dead_letters',
  version: 1,
  collection: { name: 'dead_letters', indexes: ['failedAt', ['channel', 'failedAt'], ['reason', 'failedAt'], ['route', 'failedAt']] },
  eventTypes: ['NotificationFailed', 'DeliveryRedriven', 'NotificationSent'],
  keyOf: (event) => {
    const data = event.data as { notificationId?: string; route?: string };
    return data.notificationId && data.route ? deadLetterId(data.notificationId, data.route) : null;
  },
  evolve: evolveDeadLetter,
  // Keyed by notification and route: every event of a notification is in its own stream.
  streamLocal: true,
};
