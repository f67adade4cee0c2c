import { createHash } from 'node:crypto';
import type { EventStore, StreamAppend } from '../ports/eventStore.ts';
import type { IdGenerator } from '../ports/clock.ts';
import { CHANNELS, type Channel, type ChannelContent } from '../domain/channels.ts';
import {
  decideNotification,
  evolveNotification,
  initialNotificationState,
  type NotificationCommand,
  type NotificationEvent,
  type NotificationState,
  type Priority,
  type SuppressReason,
} from '../domain/notification.ts';
import type { UserState } from '../domain/user.ts';
import { routesFor } from '../domain/userAddresses.ts';
import type { CategoryPolicy, RateLimit } from '../domain/category.ts';
import { decideChannel, notBefore } from '../domain/sendPolicy.ts';
import type { Route } from '../ports/deliveryProvider.ts';
import { loadCategory } from './categories.ts';
import { limitsFor, takeSlots } from './rateSlots.ts';
import { idempotentId } from './idempotentId.ts';
import { loadTemplate } from './templates.ts';
import { renderTemplate } from '../templates/render.ts';
import { checkUnsubscribeTag } from '../domain/unsubscribeTag.ts';
import type { Aggregate } from './handle.ts';
import { appendSend, earlierSend, type Planned } from './appendSend.ts';
import { loadUser } from './users.ts';
import { AlreadyExpiredError, PartlySentError, SendAtTooFarError, TemplateChannelMissingError, TemplateNotFoundError } from './sendErrors.ts';

export const notificationAggregate: Aggregate<NotificationState, NotificationCommand, NotificationEvent> = {
  initial: initialNotificationState,
  evolve: evolveNotification,
  decide: decideNotification,
};

export interface SendInput {
  to: { userId: string }[];
  channels?: Channel[];
  category: string;
  /** Inline content, or a template rendered per user in the user's locale. */
  content?: ChannelContent;
  template?: { id: string; version?: number; params: Record<string, unknown> };
  priority?: Priority;
  sendAt?: string;
  expiresAt?: string;
  idempotencyKey?: string;
}

export interface SendResult {
  notifications: { id: string; userId: string; channel: Channel; status: 'requested' | 'scheduled' | 'suppressed' }[];
  skipped: { userId: string; reason: 'unknown_user' | 'unreachable' }[];
}

export interface SendContext {
  store: EventStore;
  now: () => Date;
  ids: IdGenerator;
  /** Whose idempotency keys these are: the same key from two apps never collides. */
  scope: string;
  metadata?: Record<string, unknown>;
  /** Applies to categories without a rate limit of their own. */
  defaultRateLimit?: RateLimit | null;
  /** A user's limit over every category together; transactional categories are exempt. */
  userRateLimit?: RateLimit | null;
  /** Whether email gets unsubscribe links (HERALD_LIST_UNSUBSCRIBE), which the body's UNSUBSCRIBE_TAG needs. */
  unsubscribeLinks?: boolean;
  /** How far ahead `sendAt` may be (SendAtTooFarError past it); unset: no limit. */
  maxSendAheadDays?: number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Fans a send request out to one notification per (user, channel), each on its own stream. */
export async function sendNotification(ctx: SendContext, input: SendInput): Promise<SendResult> {
  const requestHash = input.idempotencyKey ? sha256(JSON.stringify([input.to, input.channels ?? null, input.category, input.content ?? null, input.template ?? null, input.priority ?? 'normal', input.sendAt ?? null, ...(input.expiresAt ? [input.expiresAt] : [])])) : undefined;
  if (input.expiresAt && input.expiresAt <= ctx.now().toISOString()) throw new AlreadyExpiredError(input.expiresAt);
  if (input.sendAt && ctx.maxSendAheadDays !== undefined && Date.parse(input.sendAt) > ctx.now().getTime() + ctx.maxSendAheadDays * 86_400_000) throw new SendAtTooFarError(input.sendAt, ctx.maxSendAheadDays);
  const result: SendResult = { notifications: [], skipped: [] };
  const users = [...new Set(input.to.map((r) => r.userId))];
  const [category, template] = await Promise.all([loadCategory(ctx.store, input.category), input.template ? loadTemplate(ctx.store, input.template.id, input.template.version) : null]);
  if (input.template && !template) throw new TemplateNotFoundError(input.template.id, input.template.version);
  // Everything is rendered, then decided, before anything is written: a bad parameter for one
  // user writes nothing for anyone and takes no rate slot.
  const rendered = await Promise.all(
    users.map(async (userId) => {
      const user = await loadUser(ctx.store, userId);
      if (!user.exists) return { userId, user, content: {} };
      // A template renders the channels the request names, or else those the user can be reached on.
      const content = template && input.template ? renderTemplate(template, user.profile.locale, input.template.params, input.channels ?? CHANNELS.filter((c) => routesFor(user, c).length > 0)) : (input.content ?? {});
      for (const c of template ? (input.channels ?? []) : []) if (!content[c]) throw new TemplateChannelMissingError(template!.templateId, c);
      checkUnsubscribeTag(content.email, { category: input.category, transactional: category.transactional, linksOn: ctx.unsubscribeLinks === true, from: template ? 'template' : 'content/email' });
      return { userId, user, content };
    }),
  );
  // A channel named twice is one notification on it, as a user named twice is one recipient.
  const recipients = rendered.map((r) => ({ ...r, wanted: !r.user.exists ? [] : input.channels ? [...new Set(input.channels)] : CHANNELS.filter((c) => r.content[c] && routesFor(r.user, c).length > 0) }));
  // A retry of an idempotent request: what it wrote before is checked for every recipient before
  // anything is written (a reused key writes nothing), and a recipient it wrote whole is answered
  // as it was, taking no rate slot again.
  const before = input.idempotencyKey ? await Promise.all(recipients.map((r) => earlierSend(ctx, input.idempotencyKey!, r.userId, r.wanted, requestHash))) : [];
  // Settled, not raced: when one user's write fails, the others' may already be durable, and the
  // client must learn which (PartlySentError) rather than retry them all.
  const written = await Promise.allSettled(
    recipients.map(async ({ userId, user, content, wanted }, i) => {
      if (!user.exists) {
        result.skipped.push({ userId, reason: 'unknown_user' });
        return;
      }
      const source = template ? { template: { id: template.templateId, version: template.version, locale: user.profile.locale } } : {};
      if (wanted.length === 0) result.skipped.push({ userId, reason: 'unreachable' });
      const earlier = before[i];
      if (earlier && wanted.length > 0 && earlier.size === wanted.length) {
        for (const [channel, { id, status }] of earlier) result.notifications.push({ id, userId, channel, status });
        return;
      }
      const build = ({ channel, routes, sendAt, heldFor, suppress }: ChannelPlan): Planned => {
        const id = input.idempotencyKey ? idempotentId(ctx.scope, input.idempotencyKey, userId, channel) : ctx.ids.next();
        const command: NotificationCommand = {
          type: 'RequestNotification',
          data: {
            notificationId: id, userId, channel, category: input.category, transactional: category.transactional, content: { [channel]: content[channel] }, routes, priority: input.priority ?? 'normal',
            ...source, ...(sendAt ? { sendAt } : {}), ...(input.expiresAt ? { expiresAt: input.expiresAt } : {}), ...(heldFor ? { heldFor } : {}), ...(suppress ? { suppress } : {}),
            ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey, requestHash } : {}),
          },
        };
        const status = suppress || routes.length === 0 ? 'suppressed' : sendAt && sendAt > ctx.now().toISOString() ? 'scheduled' : 'requested';
        return { id, channel, status, command };
      };
      for (const { id, channel, status } of await sendToUser(ctx, input, category, userId, user, wanted, build, requestHash)) result.notifications.push({ id, userId, channel, status: earlier?.get(channel)?.status ?? status });
    }),
  );
  const failed = written.find((w) => w.status === 'rejected');
  if (failed) throw result.notifications.length > 0 ? new PartlySentError(failed.reason, result.notifications) : failed.reason;
  return result;
}

interface ChannelPlan {
  channel: Channel;
  routes: Route[];
  sendAt?: string;
  heldFor?: 'quiet_hours' | 'rate_limited';
  suppress?: SuppressReason;
}

/**
 * Applies the user's preferences and the rate limits (the category's, then the user's over all
 * categories), then writes the user's notifications: each channel is sent, held (quiet hours, a
 * full window with 'defer') or suppressed with its reason. One rate slot per window covers every
 * channel of the request for this user: a limit counts messages, not copies of one message. The
 * slots and the notifications they admit are written in one `appendInOrder`.
 */
async function sendToUser(ctx: SendContext, input: SendInput, category: CategoryPolicy, userId: string, user: UserState, channels: Channel[], build: (plan: ChannelPlan) => Planned, requestHash: string | undefined): Promise<Planned[]> {
  const start = Math.max(ctx.now().getTime(), input.sendAt ? Date.parse(input.sendAt) : 0);
  const expiresBy = (t: number) => input.expiresAt !== undefined && t >= Date.parse(input.expiresAt);
  const plans: ChannelPlan[] = channels.map((channel) => {
    const routes = routesFor(user, channel);
    const decision = decideChannel(user.preferences, category, channel, user.profile.timezone, new Date(start));
    if (decision.kind === 'suppress') return { channel, routes, suppress: decision.reason };
    if (decision.kind === 'hold') return expiresBy(decision.until.getTime()) ? { channel, routes, suppress: 'expired' } : { channel, routes, sendAt: decision.until.toISOString(), heldFor: decision.reason };
    return { channel, routes, ...(input.sendAt ? { sendAt: input.sendAt } : {}) };
  });
  const deliverable = (plan: ChannelPlan) => !plan.suppress && plan.routes.length > 0;
  const limits = limitsFor(category, input.category, ctx);
  if (limits.length === 0 || !plans.some(deliverable)) {
    const planned = plans.map(build);
    await appendSend(ctx, [], planned, requestHash);
    return planned;
  }
  const at = Math.max(start, ...plans.filter(deliverable).map((p) => (p.sendAt ? Date.parse(p.sendAt) : 0)));
  const slotId = input.idempotencyKey ? idempotentId(ctx.scope, input.idempotencyKey, userId, 'slot') : ctx.ids.next();
  let planned: Planned[] = [];
  await takeSlots(ctx.store, { userId, slotId, at }, limits, async (slot, takes) => {
    const admitted = plans.map((plan): ChannelPlan => {
      if (!deliverable(plan)) return plan;
      if (slot.kind === 'suppressed') return { ...plan, suppress: 'rate_limited' };
      if (expiresBy(slot.at)) return { ...plan, suppress: 'expired' };
      return slot.at > at ? { ...plan, sendAt: new Date(slot.at).toISOString(), heldFor: 'rate_limited' } : plan;
    });
    planned = admitted.map(build);
    // Held past its expiry, it is suppressed, and the slot it would have used stays free.
    const taken = slot.kind === 'granted' && expiresBy(slot.at) ? [] : takes;
    if (taken.length > 0) planned = holdingSlot(planned, slotId, taken);
    await appendSend(ctx, taken, planned, requestHash);
  }, (t) => notBefore(user.preferences, category, user.profile.timezone, t));
  return planned;
}

/** Records on each notification the slot that admits it, so that cancelling all of them releases it (commands/cancelNotification.ts). */
function holdingSlot(planned: Planned[], slotId: string, takes: readonly StreamAppend[]): Planned[] {
  const notificationIds = planned.filter((p) => p.status !== 'suppressed').map((p) => p.id);
  const rateSlot = { slotId, windows: takes.map((t) => t.stream), notificationIds };
  return planned.map((p) => (p.status === 'suppressed' || p.command.type !== 'RequestNotification' ? p : { ...p, command: { ...p.command, data: { ...p.command.data, rateSlot } } }));
}
