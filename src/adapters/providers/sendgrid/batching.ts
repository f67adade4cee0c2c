/**
 * Turns one `send` call into as few SendGrid requests as possible: messages whose rendered
 * content (subject, text, html) is identical share one request with a personalization each.
 */
import type { DeliveryMessage, EmailContent } from '../../../ports/deliveryProvider.ts';

export type EmailMessage = Extract<DeliveryMessage, { route: 'email' }>;

/** A recipient plus where its result goes in the caller's array. */
export interface PlannedRecipient {
  index: number;
  to: string;
  notificationId: string;
}
export interface PlannedRequest {
  content: EmailContent;
  recipients: PlannedRecipient[];
}

/** SendGrid's cap: 1,000 personalizations (and recipients) per request. */
export const MAX_PERSONALIZATIONS = 1000;

function contentKey({ subject, text, html }: EmailContent): string {
  return JSON.stringify([subject, text ?? null, html ?? null]);
}

/**
 * Groups by content, then fills requests of at most `max` recipients. An address appears at
 * most once per request: two notifications to the same person with the same text stay two
 * emails, each with its own custom_args, instead of risking SendGrid merging or refusing them.
 */
export function planRequests(
  items: readonly { index: number; message: EmailMessage }[],
  max = MAX_PERSONALIZATIONS,
): PlannedRequest[] {
  const byContent = new Map<string, { content: EmailContent; requests: { plan: PlannedRequest; seen: Set<string> }[] }>();
  for (const { index, message } of items) {
    const key = contentKey(message.content);
    const group = byContent.get(key) ?? { content: message.content, requests: [] };
    byContent.set(key, group);
    const address = message.to.toLowerCase();
    let target = group.requests.find((r) => r.plan.recipients.length < max && !r.seen.has(address));
    if (!target) {
      target = { plan: { content: group.content, recipients: [] }, seen: new Set() };
      group.requests.push(target);
    }
    target.seen.add(address);
    target.plan.recipients.push({ index, to: message.to, notificationId: message.notificationId });
  }
  return [...byContent.values()].flatMap((group) => group.requests.map((r) => r.plan));
}
