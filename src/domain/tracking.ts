/**
 * Tracking facts on a notification's stream: delivered, opened, clicked, bounced, unsubscribed,
 * marked as spam, undelivered. Pure. Providers redeliver webhooks and users open mail twice, so
 * recording is idempotent: every fact has keys, and a fact whose key the stream already holds adds
 * nothing. Most facts can happen once per notification (their kind is the key); clicks are kept
 * once per URL (unique clicks, the figure analysts ask for); a provider's own event id is a key too.
 */
import type { NotificationEvent, TrackingSource } from './notificationEvents.ts';
import { exhaustive } from './exhaustive.ts';

export type TrackingKind = 'delivered' | 'opened' | 'clicked' | 'bounced' | 'unsubscribed' | 'spam' | 'undelivered';

export type TrackingFact = { source: TrackingSource; providerEventId?: string } & (
  | { kind: 'delivered' | 'opened' | 'unsubscribed' | 'spam' }
  | { kind: 'clicked'; url?: string }
  | { kind: 'bounced'; bounce: 'hard' | 'soft'; reason?: string }
  | { kind: 'undelivered'; reason?: string }
);

type TrackingEvent = Extract<
  NotificationEvent,
  { type: 'NotificationDelivered' | 'NotificationOpened' | 'NotificationClicked' | 'NotificationBounced' | 'NotificationUnsubscribed' | 'NotificationMarkedAsSpam' | 'NotificationUndelivered' }
>;

export const TRACKING_EVENT_TYPES = [
  'NotificationDelivered',
  'NotificationOpened',
  'NotificationClicked',
  'NotificationBounced',
  'NotificationUnsubscribed',
  'NotificationMarkedAsSpam',
  'NotificationUndelivered',
] as const satisfies readonly TrackingEvent['type'][];

export function isTrackingEvent(event: NotificationEvent): event is TrackingEvent {
  return (TRACKING_EVENT_TYPES as readonly string[]).includes(event.type);
}

/** The keys a recorded tracking event occupies; evolve adds them to the state's `tracked` list. */
export function trackingKeys(event: TrackingEvent): string[] {
  const d = event.data;
  const byId = d.providerEventId ? [`event:${d.source ?? 'app'}:${d.providerEventId}`] : [];
  switch (event.type) {
    case 'NotificationDelivered':
      return ['delivered', ...byId];
    case 'NotificationOpened':
      return ['opened', ...byId];
    case 'NotificationClicked':
      return [`clicked:${event.data.url ?? ''}`, ...byId];
    case 'NotificationBounced':
      return [`bounced:${event.data.bounce}`, ...byId];
    case 'NotificationUnsubscribed':
      return ['unsubscribed', ...byId];
    case 'NotificationMarkedAsSpam':
      return ['spam', ...byId];
    case 'NotificationUndelivered':
      return ['undelivered', ...byId];
    default:
      return exhaustive(event);
  }
}

function eventOf(notificationId: string, fact: TrackingFact, at: string): TrackingEvent {
  const base = { notificationId, source: fact.source, ...(fact.providerEventId ? { providerEventId: fact.providerEventId } : {}), at };
  switch (fact.kind) {
    case 'delivered':
      return { type: 'NotificationDelivered', data: base };
    case 'opened':
      return { type: 'NotificationOpened', data: base };
    case 'clicked':
      return { type: 'NotificationClicked', data: { ...base, ...(fact.url ? { url: fact.url } : {}) } };
    case 'bounced':
      return { type: 'NotificationBounced', data: { ...base, bounce: fact.bounce, ...(fact.reason ? { reason: fact.reason } : {}) } };
    case 'unsubscribed':
      return { type: 'NotificationUnsubscribed', data: base };
    case 'spam':
      return { type: 'NotificationMarkedAsSpam', data: base };
    case 'undelivered':
      return { type: 'NotificationUndelivered', data: { ...base, ...(fact.reason ? { reason: fact.reason } : {}) } };
    default:
      return exhaustive(fact);
  }
}

/** The event a fact becomes, or nothing when any of its keys is already on the stream. */
export function decideTracking(tracked: readonly string[], notificationId: string, fact: TrackingFact, at: string): NotificationEvent[] {
  const event = eventOf(notificationId, fact, at);
  return trackingKeys(event).some((k) => tracked.includes(k)) ? [] : [event];
}
