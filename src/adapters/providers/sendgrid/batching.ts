/**
 * Turns one `send` call into as few SendGrid requests as possible: messages whose content
 * (subject, text, html) is identical share one request with a personalization each, carrying the
 * message's substitutions (e.g. its tracking URLs), which SendGrid applies per personalization,
 * and its headers (e.g. its List-Unsubscribe link).
 */
import type { DeliveryMessage, EmailContent } from '../../../ports/deliveryProvider.ts';
import { substitute } from '../../../tracking/substitutions.ts';

export type EmailMessage = Extract<DeliveryMessage, { route: 'email' }>;

/** A recipient plus where its result goes in the caller's array. */
export interface PlannedRecipient {
  index: number;
  to: string;
  notificationId: string;
  substitutions?: Record<string, string>;
  headers?: Record<string, string>;
}
export interface PlannedRequest {
  content: EmailContent;
  recipients: PlannedRecipient[];
}

/** SendGrid's cap: 1,000 personalizations (and recipients) per request. */
export const MAX_PERSONALIZATIONS = 1000;
/** SendGrid's cap on the total size of one personalization's substitutions (v3 mail/send reference). */
export const MAX_SUBSTITUTION_BYTES = 10_000;

/** Tags and values together, in UTF-8: the strictest reading of "total collective size". */
export function substitutionBytes(substitutions: Readonly<Record<string, string>>): number {
  return Object.entries(substitutions).reduce((sum, [tag, value]) => sum + Buffer.byteLength(tag) + Buffer.byteLength(value), 0);
}

function contentKey({ subject, text, html }: EmailContent): string {
  return JSON.stringify([subject, text ?? null, html ?? null]);
}

/**
 * Substitutions SendGrid would refuse are applied here instead: that email gets content of its
 * own and so a request of its own, rather than failing the request it would have shared.
 */
function prepare({ content, substitutions }: EmailMessage): { content: EmailContent; substitutions?: Record<string, string> } {
  if (!substitutions || Object.keys(substitutions).length === 0) return { content };
  if (substitutionBytes(substitutions) > MAX_SUBSTITUTION_BYTES) return { content: substitute(content, substitutions) };
  return { content, substitutions };
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
    const { content, substitutions } = prepare(message);
    const key = contentKey(content);
    const group = byContent.get(key) ?? { content, requests: [] };
    byContent.set(key, group);
    const address = message.to.toLowerCase();
    let target = group.requests.find((r) => r.plan.recipients.length < max && !r.seen.has(address));
    if (!target) {
      target = { plan: { content: group.content, recipients: [] }, seen: new Set() };
      group.requests.push(target);
    }
    target.seen.add(address);
    const { headers } = message;
    target.plan.recipients.push({ index, to: message.to, notificationId: message.notificationId, ...(substitutions ? { substitutions } : {}), ...(headers ? { headers } : {}) });
  }
  return [...byContent.values()].flatMap((group) => group.requests.map((r) => r.plan));
}
