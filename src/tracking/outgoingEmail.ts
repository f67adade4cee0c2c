/**
 * What Herald adds to an email on its way out, as a pure function: open and click tracking
 * (emailTracking.ts), the List-Unsubscribe headers and the body's unsubscribe link
 * (listUnsubscribe.ts). Per-notification URLs go out as substitutions, so emails of the same
 * content keep the same content and share one SendGrid request.
 */
import type { RequestData } from '../domain/notification.ts';
import type { EmailContent } from '../ports/deliveryProvider.ts';
import { withEmailTracking, type EmailTrackingOptions } from './emailTracking.ts';
import { listUnsubscribeHeaders, unsubscribeSubstitution, type ListUnsubscribeOptions } from './listUnsubscribe.ts';

export interface OutgoingEmail {
  content: EmailContent;
  substitutions?: Record<string, string>;
  headers?: Record<string, string>;
}

export function outgoingEmail(email: EmailContent, request: Pick<RequestData, 'notificationId' | 'channel' | 'transactional'>, options: { emailTracking?: EmailTrackingOptions; listUnsubscribe?: ListUnsubscribeOptions }): OutgoingEmail {
  const tracked = options.emailTracking ? withEmailTracking(email, request.notificationId, options.emailTracking) : { content: email };
  if (!options.listUnsubscribe) return tracked;
  const unsubscribe = unsubscribeSubstitution(options.listUnsubscribe, request, email);
  const substitutions = unsubscribe ? { ...tracked.substitutions, ...unsubscribe } : tracked.substitutions;
  const headers = listUnsubscribeHeaders(options.listUnsubscribe, request);
  return { content: tracked.content, ...(substitutions ? { substitutions } : {}), ...(headers ? { headers } : {}) };
}
