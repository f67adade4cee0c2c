/**
 * What a status callback says about one event: a fixed shape chosen field by field, never the
 * event's data as a whole, so nothing reaches the receiver by accident. Addresses are the masked
 * ones the events hold (a***@e***.com); full contact details are never in a callback.
 */
import type { NotificationEvent } from '../domain/notificationEvents.ts';
import type { CallbackOutcome } from '../domain/appCallback.ts';

/** The notification a callback is about, as its NotificationRequested recorded it. */
export interface RequestFacts {
  appId: string;
  userId: string;
  channel: string;
  category: string;
}

export interface CallbackItem {
  /** The event's id: the same in every attempt and every redelivery, for receivers to drop duplicates. */
  id: string;
  type: `notification.${CallbackOutcome}`;
  outcome: CallbackOutcome;
  appId: string;
  notificationId: string;
  userId: string;
  channel: string;
  category: string;
  occurredAt: string;
  details: Record<string, unknown>;
}

const present = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function detailsOf(event: NotificationEvent): Record<string, unknown> {
  switch (event.type) {
    case 'NotificationSent': {
      const { route, provider, attempt, deliveries, rejected } = event.data;
      return present({ route, provider, attempt, deliveries: deliveries.map((d) => ({ to: d.to, providerMessageId: d.providerMessageId })), rejected: rejected.map((r) => ({ to: r.to, reason: r.reason })) });
    }
    case 'NotificationFailed': {
      const { route, provider, reason, permanent, attempts } = event.data;
      return present({ route, provider, reason, permanent, attempts });
    }
    case 'NotificationSuppressed':
      return { reason: event.data.reason };
    case 'NotificationBounced':
      return present({ source: event.data.source, bounce: event.data.bounce, reason: event.data.reason });
    case 'NotificationUndelivered':
      return present({ source: event.data.source, reason: event.data.reason });
    case 'NotificationClicked':
      return present({ source: event.data.source, url: event.data.url });
    case 'NotificationOpened':
    case 'NotificationDelivered':
    case 'NotificationUnsubscribed':
    case 'NotificationMarkedAsSpam':
      return present({ source: event.data.source });
    default:
      return {};
  }
}

export function callbackItem(eventId: string, event: NotificationEvent, outcome: CallbackOutcome, request: RequestFacts): CallbackItem {
  const { notificationId, at } = event.data;
  return { id: eventId, type: `notification.${outcome}`, outcome, appId: request.appId, notificationId, userId: request.userId, channel: request.channel, category: request.category, occurredAt: at, details: detailsOf(event) };
}
