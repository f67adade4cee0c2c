/** zod schemas of what a send delivers: inline content per channel, and the texts, sound and push data keys templates share. */
import { z } from 'zod';
import type { PushContent } from '../ports/deliveryProvider.ts';
import { BADGE_MAX, COLLAPSE_KEY, COLLAPSE_KEY_RULE, EMAIL_SUBJECT_MAX_CHARS, HEADER_TEXT_RULE, isHeaderText, isPushLink, isReservedDataKey, PUSH_LINK_RULE, pushPayloadProblem, SMS_BODY_MAX_CHARS, smsBodyLengthProblem, SOUND_NAME } from '../domain/contentLimits.ts';

/** A push data key the providers keep for themselves, as an issue at `data/<key>`. */
export function reservedDataKeys(data: Record<string, string> | undefined, ctx: z.RefinementCtx): void {
  for (const key of Object.keys(data ?? {})) {
    if (isReservedDataKey(key)) ctx.addIssue({ code: 'custom', path: ['data', key], message: `data key "${key}" is reserved by APNs or FCM (aps, from, message_type, collapse_key, google…, gcm…); rename it` });
  }
}

/**
 * Text that reaches a recipient (or a template source of it). JSON can carry an unpaired UTF-16
 * surrogate (a lone `\ud800` escape, what a client that cuts a string between the two halves of an
 * emoji sends), which is not Unicode: Twilio sends it as �, SendGrid passes the broken escape on.
 * Refused here, naming the field, rather than delivered broken.
 */
export const recipientText = () =>
  z.string().refine((text) => text.isWellFormed(), 'holds an unpaired surrogate (e.g. a lone \\ud800 escape, half of an emoji), which is not valid Unicode and would reach the recipient as �; send whole characters');

/** A push's sound, inline or in a template: a file name, not a Handlebars source. */
export const pushSound = z.string().regex(SOUND_NAME, 'a sound file\'s name in the app (letters, digits, . _ -), or "default"').nullable().optional()
  .describe('absent: the system\'s default sound; null: none (a silent banner); else a sound file bundled with the app');

/** Fields only a push the device shows has; a silent push leaves them out. */
const SHOWN_ONLY = ['title', 'body', 'sound', 'badge', 'link'] as const;

const push = z
  .strictObject({
    silent: z.literal(true).optional().describe('a push the device does not show: it wakes the app with its data (APNs background push, FCM data message), e.g. to sync; no title, body, sound, badge or link'),
    title: recipientText().min(1).max(256).optional().describe('required unless silent'),
    body: recipientText().max(4096).optional().describe('required unless silent'),
    data: z.record(z.string(), recipientText()).optional(),
    sound: pushSound,
    badge: z.number().int().min(0).max(BADGE_MAX).optional().describe('the number on the app\'s icon (0 clears it)'),
    collapseKey: z.string().regex(COLLAPSE_KEY, COLLAPSE_KEY_RULE).optional().describe('a newer push with the same key replaces the one shown, e.g. "chat-42"'),
    link: z.string().refine(isPushLink, PUSH_LINK_RULE).optional().describe('the page a web push opens when clicked; mobile apps take their deep links from data'),
  })
  .superRefine((push, ctx) => {
    if (push.silent) {
      if (Object.keys(push.data ?? {}).length === 0) ctx.addIssue({ code: 'custom', path: ['data'], message: 'a silent push carries only its data: give data with at least one key (e.g. {"sync": "inbox"})' });
      for (const field of SHOWN_ONLY) {
        if (push[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `a silent push shows nothing: leave ${field} out, or leave silent out for a push the device shows` });
      }
    } else {
      for (const field of ['title', 'body'] as const) {
        if (push[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `required: the ${field} the device shows (or set silent: true for a push that only wakes the app with its data)` });
      }
    }
    reservedDataKeys(push.data, ctx);
    const problem = pushPayloadProblem(asPushContent(push));
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform(asPushContent);

/** The checked body as the port's push: a silent one, or one the device shows. */
function asPushContent(push: { silent?: true; title?: string; body?: string; data?: Record<string, string>; sound?: string | null; badge?: number; collapseKey?: string; link?: string }): PushContent {
  const { silent, title, body, ...rest } = push;
  if (silent) return { silent, data: rest.data ?? {}, ...(rest.collapseKey ? { collapseKey: rest.collapseKey } : {}) };
  return { title: title ?? '', body: body ?? '', ...rest };
}

export const content = z.strictObject({
  push: push.optional(),
  sms: z.strictObject({
    body: recipientText().min(1).superRefine((body, ctx) => {
      const problem = smsBodyLengthProblem(body);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }).describe(`at most ${SMS_BODY_MAX_CHARS} characters as Twilio counts them: in GSM-7 each of € [ ] { } ~ ^ | \\ counts two, in UCS-2 (any character outside GSM-7) an emoji counts two`),
  }).optional(),
  email: z
    .strictObject({ subject: recipientText().min(1).max(EMAIL_SUBJECT_MAX_CHARS).refine(isHeaderText, HEADER_TEXT_RULE), text: recipientText().min(1, 'SendGrid refuses an empty body: leave text out instead').max(1_000_000).optional(), html: recipientText().min(1, 'SendGrid refuses an empty body: leave html out instead').max(1_000_000).optional() })
    .refine((e) => e.text !== undefined || e.html !== undefined, 'an email needs text, html or both')
    .optional(),
});
