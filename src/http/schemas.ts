/** zod schemas of the HTTP API: validation at the edge, and the source of the OpenAPI document. A send's content is in contentSchemas.ts. */
import { z } from 'zod';
import { content } from './contentSchemas.ts';

/** A category's name: the same rule wherever one is named (sends, settings, preferences, filters). */
export const categoryName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ -');

export const userId = z.string().regex(/^[A-Za-z0-9._:@-]{1,128}$/, 'use 1-128 letters, digits or . _ : @ -');
export const notificationId = z.string().regex(/^[0-9a-f-]{36}$/, 'a notification id (UUID)');
export const templateId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use 1-128 letters, digits or . _ - (starting with a letter or digit)');
/** Levels of objects and lists a template's parameters may nest: deeper is no data a template prints, and rendering walks it recursively. */
export const PARAMS_MAX_DEPTH = 32;

/** Whether `value` nests objects and lists at most `max` levels deep; a walk with its own stack, so no depth overflows it. */
function nestsAtMost(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return false;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return true;
}

/** A template's parameters: JSON values by name, nested at most PARAMS_MAX_DEPTH levels. */
export const templateParams = z
  .record(z.string(), z.unknown())
  .refine((params) => nestsAtMost(params, PARAMS_MAX_DEPTH), `parameters nested more than ${PARAMS_MAX_DEPTH} levels deep; pass the values the template prints`);

/** A send that names a template instead of inline content; the recipient's locale picks the language. */
export const templateRef = z.strictObject({
  id: templateId,
  version: z.number().int().min(1).optional().describe('absent: the latest version at request time'),
  params: templateParams.default({}).describe('values for the template\'s {{parameters}}'),
});

const channel = z.enum(['push', 'sms', 'email']);

/** An ISO 8601 time with an offset, kept as UTC. */
/**
 * A time as UTC ISO text. Years 0000–9999 only: one that an offset moves out of them
 * (`9999-12-31T23:59:59-00:01`) would turn into `+010000-…`, which compares as text before 2026.
 */
export const isoTime = z.iso
  .datetime({ offset: true, message: 'an ISO 8601 time with offset, e.g. 2026-12-01T09:00:00Z' })
  .transform((v) => new Date(v).toISOString())
  .refine((v) => /^\d{4}-/.test(v), 'must fall within the years 0000–9999 in UTC');

/** A client's idempotency key: whole characters only, since the key is hashed as UTF-8, where every unpaired surrogate is the same U+FFFD. */
export const idempotencyKey = z.string().min(1).max(255).refine((key) => key.isWellFormed(), 'holds an unpaired surrogate (a lone \\ud800 escape): keys that differ only there would be the same key; send whole characters');

export const sendBody = (maxRecipients: number) =>
  z
    .strictObject({
      to: z.array(z.strictObject({ userId })).min(1).max(maxRecipients, `at most ${maxRecipients} recipients per request`),
      channels: z.array(channel).min(1).max(3).optional(),
      category: categoryName,
      content: content.optional(),
      template: templateRef.optional(),
      priority: z.enum(['high', 'normal']).optional(),
      sendAt: isoTime.optional().describe('held until this time (status scheduled); a time in the past sends now; at most HERALD_MAX_SEND_AHEAD_DAYS (366) days ahead, else 422 send_at_too_far'),
      expiresAt: isoTime.optional()
        .describe('not sent after this time: a retry, a quiet-hours hold or a rate-limit deferral past it ends suppressed (reason expired), and APNs, FCM and Twilio are told to drop it rather than deliver it late'),
      idempotencyKey: idempotencyKey.optional(),
    })
    .superRefine((body, ctx) => {
      if (body.expiresAt && body.sendAt && body.expiresAt <= body.sendAt) ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'expiresAt must be after sendAt' });
      if (!body.content === !body.template) {
        ctx.addIssue({ code: 'custom', path: ['content'], message: 'give either content (inline) or template (by id), not both' });
        return;
      }
      if (!body.content) return; // a template's channels are checked when it is rendered
      for (const c of body.channels ?? []) {
        if (!body.content[c]) ctx.addIssue({ code: 'custom', path: ['content', c], message: `channel ${c} is requested but content.${c} is missing` });
      }
      if (!body.channels && !body.content.push && !body.content.sms && !body.content.email) {
        ctx.addIssue({ code: 'custom', path: ['content'], message: 'give content for at least one channel' });
      }
    });

export const sendResponse = z.object({
  notifications: z.array(z.object({ id: z.string(), userId: z.string(), channel, status: z.enum(['requested', 'scheduled', 'suppressed']) })),
  skipped: z.array(z.object({ userId: z.string(), reason: z.enum(['unknown_user', 'unreachable']) })),
});

export const notificationResponse = z.object({
  id: z.string(),
  userId: z.string(),
  channel,
  category: z.string(),
  priority: z.string(),
  sendAt: z.string().optional(),
  expiresAt: z.string().optional(),
  status: z.enum(['requested', 'scheduled', 'sent', 'failed', 'suppressed', 'cancelled']),
  routes: z.record(z.string(), z.enum(['pending', 'sent', 'failed', 'suppressed', 'cancelled'])).describe('each route (apns, fcm, sms, email) and how it ended; suppressed or cancelled: never tried'),
  unsentDevices: z.record(z.string(), z.number().int()).optional().describe('per sent route, how many of the user\'s devices it has not reached yet and is still trying again (see UnsentDevicesRetried in events)'),
  opened: z.boolean(),
  delivered: z.boolean().optional(),
  clicked: z.boolean().optional(),
  bounced: z.boolean().optional(),
  requestedAt: z.string(),
  updatedAt: z.string(),
  events: z.array(z.looseObject({ type: z.string(), at: z.string() })),
});

export const problem = z.looseObject({ type: z.string(), title: z.string(), status: z.number(), code: z.string(), detail: z.string().optional() });

/**
 * Many send requests in one HTTP request: each item is a send body of its own (recipients,
 * channels, content or template, idempotency key). The recipients of all items together count
 * against the same per-request cap as one send's.
 */
export const batchBody = (maxRecipients: number) =>
  z
    .strictObject({ requests: z.array(sendBody(maxRecipients)).min(1).max(maxRecipients, `at most ${maxRecipients} requests per batch`) })
    .superRefine((body, ctx) => {
      const recipients = body.requests.reduce((n, r) => n + r.to.length, 0);
      if (recipients > maxRecipients) ctx.addIssue({ code: 'custom', path: ['requests'], message: `at most ${maxRecipients} recipients per request, counted over every item of a batch (this one has ${recipients}); split it` });
    });

export const batchResponse = z.object({
  /** Items accepted (each answered like a 202 of POST /v1/notifications) and rejected. */
  accepted: z.number().int(),
  rejected: z.number().int(),
  results: z.array(
    z.union([
      z.object({ index: z.number().int(), status: z.literal(202) }).extend(sendResponse.shape),
      z.object({ index: z.number().int(), status: z.number().int(), error: problem }),
    ]),
  ),
});
