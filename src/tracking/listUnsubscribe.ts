/**
 * One-click unsubscribe for email (RFC 2369 List-Unsubscribe, RFC 8058 List-Unsubscribe-Post), as
 * a pure function. Mail clients show an "Unsubscribe" button next to the sender for mail that
 * carries these headers, and Gmail and Yahoo require them of bulk senders' subscribed mail (since
 * February 2024). Without the button a recipient who wants no more of a kind of mail has one
 * button left: "Report spam", which costs the sender's domain its reputation.
 *
 * The link is signed like the tracking links (linkToken.ts) and names only the notification; the
 * user and the category it unsubscribes from are read from the notification's stream. It opts the
 * user out of that category by email (http/routes/unsubscribe.ts). Only mail in a category that
 * the user can opt out of gets it: a transactional category ignores category opt-outs, so a
 * button there would promise what Herald does not do.
 */
import type { RequestData } from '../domain/notification.ts';
import { holdsUnsubscribeTag, UNSUBSCRIBE_TAG } from '../domain/unsubscribeTag.ts';
import type { EmailContent } from '../ports/deliveryProvider.ts';
import { signLinkToken } from './linkToken.ts';

export interface ListUnsubscribeOptions {
  secret: Buffer;
  /** Where recipients reach Herald, e.g. https://herald.example.com. */
  publicUrl: string;
}

export function unsubscribeUrl(options: ListUnsubscribeOptions, notificationId: string): string {
  return `${options.publicUrl.replace(/\/+$/, '')}/t/u/${signLinkToken(options.secret, { kind: 'unsubscribe', notificationId })}`;
}

/**
 * The headers for this notification's email, or undefined when it gets none: not email, or a
 * category that is transactional (or not known to be otherwise: requested before 2026-11-28).
 * RFC 8058 allows one-click only over HTTPS; behind a plain-HTTP public URL the link is still
 * given (RFC 2369), and a mail client opens it as a page where the recipient confirms.
 */
export function listUnsubscribeHeaders(options: ListUnsubscribeOptions, request: Pick<RequestData, 'notificationId' | 'channel' | 'transactional'>): Record<string, string> | undefined {
  if (request.channel !== 'email' || request.transactional !== false) return undefined;
  const url = unsubscribeUrl(options, request.notificationId);
  return url.startsWith('https://') ? { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : { 'List-Unsubscribe': `<${url}>` };
}

/**
 * The body's unsubscribe tag (domain/unsubscribeTag.ts) and this notification's link, as a
 * substitution, so that emails of the same content keep sharing one SendGrid request; undefined
 * when the email holds no tag. A request holding it in a transactional category is refused
 * before the 202; one recorded otherwise (before the check existed) gets an empty link rather
 * than the tag's text.
 */
export function unsubscribeSubstitution(options: ListUnsubscribeOptions, request: Pick<RequestData, 'notificationId' | 'transactional'>, email: EmailContent | undefined): Record<string, string> | undefined {
  if (!holdsUnsubscribeTag(email)) return undefined;
  return { [UNSUBSCRIBE_TAG]: request.transactional === false ? unsubscribeUrl(options, request.notificationId) : '' };
}
