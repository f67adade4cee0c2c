/**
 * An app's status callback: where Herald POSTs what became of the app's notifications, and which
 * outcomes it wants. Pure: the URL rules and the event → outcome mapping, no I/O.
 */
import type { NotificationEvent } from './notificationEvents.ts';

/**
 * What a receiver can ask to be told. Final states (sent, failed, suppressed, expired, cancelled)
 * and the tracking facts after a send. Intermediate steps (DeliveryDue, DeliveryAttemptFailed,
 * DeliveryHeld, a resend's MessageUndelivered) are Herald's own business and stay out.
 */
export const CALLBACK_OUTCOMES = ['sent', 'failed', 'suppressed', 'expired', 'cancelled', 'delivered', 'undelivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'spam_reported'] as const;
export type CallbackOutcome = (typeof CALLBACK_OUTCOMES)[number];

/** The notification events a callback is made of, one outcome each (see outcomeOf). */
export const CALLBACK_EVENT_TYPES = [
  'NotificationSent', 'NotificationFailed', 'NotificationSuppressed', 'NotificationCancelled', 'NotificationDelivered', 'NotificationUndelivered',
  'NotificationBounced', 'NotificationOpened', 'NotificationClicked', 'NotificationUnsubscribed', 'NotificationMarkedAsSpam',
] as const satisfies readonly NotificationEvent['type'][];

export interface AppCallback {
  url: string;
  /** The outcomes the app asked for, sorted; every one of CALLBACK_OUTCOMES when it named none. */
  events: CallbackOutcome[];
}

/** The outcome an event stands for, or undefined for the events no callback is made of. */
export function outcomeOf(event: NotificationEvent): CallbackOutcome | undefined {
  switch (event.type) {
    case 'NotificationSent': return 'sent';
    case 'NotificationFailed': return 'failed';
    // Expiry is recorded as a suppression; receivers tell the two apart more easily by name.
    case 'NotificationSuppressed': return event.data.reason === 'expired' ? 'expired' : 'suppressed';
    case 'NotificationCancelled': return 'cancelled';
    case 'NotificationDelivered': return 'delivered';
    case 'NotificationUndelivered': return 'undelivered';
    case 'NotificationBounced': return 'bounced';
    case 'NotificationOpened': return 'opened';
    case 'NotificationClicked': return 'clicked';
    case 'NotificationUnsubscribed': return 'unsubscribed';
    case 'NotificationMarkedAsSpam': return 'spam_reported';
    default: return undefined;
  }
}

export class InvalidCallbackUrlError extends Error {
  readonly code = 'invalid_callback_url';
  constructor(detail: string) {
    super(detail);
  }
}

export const CALLBACK_URL_MAX_LENGTH = 2048;

/**
 * Why `url` cannot be a callback URL, or undefined when it can: an absolute http(s) URL without
 * credentials (they would sit in the event log, and the signature is what authenticates Herald)
 * and without a fragment (never sent).
 */
export function callbackUrlProblem(url: string): string | undefined {
  if (url.length > CALLBACK_URL_MAX_LENGTH) return `the callback URL is over ${CALLBACK_URL_MAX_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'the callback URL is not an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `the callback URL must be http or https, not ${parsed.protocol.replace(/:$/, '')}`;
  if (parsed.username || parsed.password) return 'the callback URL must not hold credentials (user:password@): check the Herald-Signature header instead';
  if (parsed.hash) return 'the callback URL must not have a fragment (#…): it is never sent';
  return undefined;
}
