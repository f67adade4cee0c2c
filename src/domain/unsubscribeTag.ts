/**
 * The unsubscribe link in an email's body. The List-Unsubscribe header gives mail clients their
 * button, but a human reading the mail looks for a link in it, and CAN-SPAM and the mailbox
 * providers' bulk-sender rules ask for one there too. The app cannot build that link itself (it
 * is signed per notification), so it writes this tag where the link goes, in `html` (as an
 * `href`) or `text`, inline or in a template; delivery replaces it with the same signed link as
 * the header (tracking/listUnsubscribe.ts), which opens a page where the recipient confirms.
 */
import type { EmailContent } from '../ports/deliveryProvider.ts';

export const UNSUBSCRIBE_TAG = '[[herald:unsubscribe]]';

export function holdsUnsubscribeTag(email: EmailContent | undefined): boolean {
  return email !== undefined && [email.subject, email.text, email.html].some((part) => part?.includes(UNSUBSCRIBE_TAG));
}

export class UnsubscribeLinkUnavailableError extends Error {
  readonly code = 'unsubscribe_link_unavailable';
  constructor(
    message: string,
    /** Where in the request the email came from: its inline `content/email`, or its `template`. */
    readonly from: 'content/email' | 'template',
  ) {
    super(message);
  }
}

/**
 * Refuses an email holding the tag when it would get no link: its category is transactional
 * (it ignores opt-outs, so the link would promise what Herald does not do), Herald's unsubscribe
 * links are turned off (HERALD_LIST_UNSUBSCRIBE=false), or the tag is in the subject.
 */
export function checkUnsubscribeTag(email: EmailContent | undefined, rules: { category: string; transactional: boolean; linksOn: boolean; from: 'content/email' | 'template' }): void {
  if (!holdsUnsubscribeTag(email)) return;
  const refuse = (why: string) => new UnsubscribeLinkUnavailableError(why, rules.from);
  if (email!.subject.includes(UNSUBSCRIBE_TAG)) throw refuse(`${UNSUBSCRIBE_TAG} goes in the email's html or text, not its subject`);
  if (rules.transactional) throw refuse(`category ${rules.category} is transactional: it ignores opt-outs, so its email carries no unsubscribe link; remove ${UNSUBSCRIBE_TAG} or send in a category people can opt out of`);
  if (!rules.linksOn) throw refuse(`this Herald's unsubscribe links are off (HERALD_LIST_UNSUBSCRIBE=false): remove ${UNSUBSCRIBE_TAG}, or turn them on`);
}
