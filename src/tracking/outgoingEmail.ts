/**
 * What Herald adds to an email on its way out, as a pure function: a text part when only HTML was
 * given (plainText.ts), open and click tracking (emailTracking.ts), the List-Unsubscribe headers
 * and the body's unsubscribe link (listUnsubscribe.ts). Per-notification URLs go out as
 * substitutions, so emails of the same content keep the same content and share one SendGrid
 * request.
 */
import type { RequestData } from '../domain/notification.ts';
import type { EmailContent } from '../ports/deliveryProvider.ts';
import { withEmailTracking, type EmailTrackingOptions } from './emailTracking.ts';
import { listUnsubscribeHeaders, unsubscribeSubstitution, type ListUnsubscribeOptions } from './listUnsubscribe.ts';
import { plainTextOf } from './plainText.ts';

export interface OutgoingEmail {
  content: EmailContent;
  substitutions?: Record<string, string>;
  headers?: Record<string, string>;
}

export function outgoingEmail(given: EmailContent, request: Pick<RequestData, 'notificationId' | 'channel' | 'transactional'>, options: { emailTracking?: EmailTrackingOptions; listUnsubscribe?: ListUnsubscribeOptions }): OutgoingEmail {
  // From the HTML as written: its links, not the tracking redirects, and the unsubscribe tag, replaced below.
  const text = given.text === undefined && given.html !== undefined ? plainTextOf(given.html) : '';
  const email = text.trim() ? { ...given, text } : given;
  const tracked = options.emailTracking ? withEmailTracking(email, request.notificationId, options.emailTracking) : { content: email };
  if (!options.listUnsubscribe) return tracked;
  const unsubscribe = unsubscribeSubstitution(options.listUnsubscribe, request, email);
  const substitutions = unsubscribe ? { ...tracked.substitutions, ...unsubscribe } : tracked.substitutions;
  const headers = listUnsubscribeHeaders(options.listUnsubscribe, request);
  return { content: tracked.content, ...(substitutions ? { substitutions } : {}), ...(headers ? { headers } : {}) };
}
