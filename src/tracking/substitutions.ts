/**
 * Applies an email message's per-recipient substitutions (see the port's `substitutions`) to its
 * content. SendGrid does this itself, per personalization; every other consumer of email content
 * (the sandbox, the SendGrid adapter when it cannot pass substitutions on) calls this first, so
 * what they deliver is the final email.
 */
import type { EmailContent } from '../ports/deliveryProvider.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One pass over each part, longest tag first: a value that happens to contain a tag is never substituted again. */
export function substitute(content: EmailContent, substitutions: Readonly<Record<string, string>> | undefined): EmailContent {
  const tags = Object.keys(substitutions ?? {}).filter((tag) => tag.length > 0);
  if (!substitutions || tags.length === 0) return content;
  const pattern = new RegExp(tags.sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  const apply = (part: string) => part.replace(pattern, (tag) => substitutions[tag] ?? tag);
  return {
    subject: apply(content.subject),
    ...(content.text !== undefined ? { text: apply(content.text) } : {}),
    ...(content.html !== undefined ? { html: apply(content.html) } : {}),
  };
}
