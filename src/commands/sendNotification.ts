import { createHash } from 'node:crypto';
import { WrongExpectedRevisionError, type EventStore } from '../ports/eventStore.ts';
import type { IdGenerator } from '../ports/clock.ts';
import { CHANNELS, type Channel, type ChannelContent } from '../domain/channels.ts';
import {
  decideNotification,
  evolveNotification,
  initialNotificationState,
  notificationStream,
  type NotificationCommand,
  type NotificationEvent,
  type NotificationState,
  type Priority,
} from '../domain/notification.ts';
import { routesFor } from '../domain/user.ts';
import { encodeEvent } from '../codec/events.ts';
import { load, type Aggregate } from './handle.ts';
import { loadUser } from './users.ts';

export const notificationAggregate: Aggregate<NotificationState, NotificationCommand, NotificationEvent> = {
  initial: initialNotificationState,
  evolve: evolveNotification,
  decide: decideNotification,
};

export interface SendInput {
  to: { userId: string }[];
  channels?: Channel[];
  category: string;
  content: ChannelContent;
  priority?: Priority;
  sendAt?: string;
  idempotencyKey?: string;
}

export interface SendResult {
  notifications: { id: string; userId: string; channel: Channel; status: 'requested' | 'scheduled' | 'suppressed' }[];
  skipped: { userId: string; reason: 'unknown_user' | 'unreachable' }[];
}

export class IdempotencyKeyReusedError extends Error {
  readonly code = 'idempotency_key_reused';
  constructor(readonly idempotencyKey: string) {
    super(`idempotency key ${idempotencyKey} was already used for a different request`);
  }
}

export interface SendContext {
  store: EventStore;
  now: () => Date;
  ids: IdGenerator;
  /** Whose idempotency keys these are: the same key from two apps never collides. */
  scope: string;
  metadata?: Record<string, unknown>;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Deterministic id for (scope, key, user, channel), so a repeated or racing request maps to the same streams. */
function idempotentId(scope: string, key: string, userId: string, channel: Channel): string {
  const h = sha256(`${scope}\n${key}\n${userId}\n${channel}`);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Fans a send request out to one notification per (user, channel), each on its own stream. */
export async function sendNotification(ctx: SendContext, input: SendInput): Promise<SendResult> {
  const requestHash = input.idempotencyKey ? sha256(JSON.stringify([input.to, input.channels ?? null, input.category, input.content, input.priority ?? 'normal', input.sendAt ?? null])) : undefined;
  const result: SendResult = { notifications: [], skipped: [] };
  const users = [...new Set(input.to.map((r) => r.userId))];
  const appends: Promise<void>[] = [];
  for (const [userId, user] of await Promise.all(users.map(async (id) => [id, await loadUser(ctx.store, id)] as const))) {
    if (!user.exists) {
      result.skipped.push({ userId, reason: 'unknown_user' });
      continue;
    }
    const wanted = input.channels ?? CHANNELS.filter((c) => input.content[c] && routesFor(user, c).length > 0);
    if (wanted.length === 0) result.skipped.push({ userId, reason: 'unreachable' });
    for (const channel of wanted) {
      const routes = routesFor(user, channel);
      const id = input.idempotencyKey ? idempotentId(ctx.scope, input.idempotencyKey, userId, channel) : ctx.ids.next();
      const content = { [channel]: input.content[channel] } as ChannelContent;
      const command: NotificationCommand = {
        type: 'RequestNotification',
        data: { notificationId: id, userId, channel, category: input.category, content, routes, priority: input.priority ?? 'normal', ...(input.sendAt ? { sendAt: input.sendAt } : {}), ...(input.idempotencyKey ? { idempotencyKey: input.idempotencyKey, requestHash } : {}) },
      };
      const scheduled = input.sendAt !== undefined && input.sendAt > ctx.now().toISOString();
      result.notifications.push({ id, userId, channel, status: routes.length === 0 ? 'suppressed' : scheduled ? 'scheduled' : 'requested' });
      appends.push(request(ctx, id, command, requestHash));
    }
  }
  await Promise.all(appends);
  return result;
}

async function request(ctx: SendContext, id: string, command: NotificationCommand, requestHash: string | undefined): Promise<void> {
  const events = decideNotification(command, initialNotificationState(), ctx.now().toISOString());
  try {
    await ctx.store.append(notificationStream(id), events.map((e) => encodeEvent(e, ctx.metadata)), 'no_stream');
  } catch (error) {
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
    // Same id already written: a repeat (or a racing twin) of an idempotent request.
    const { state } = await load(ctx.store, notificationStream(id), notificationAggregate);
    if (!state.exists || state.request.requestHash !== requestHash) throw new IdempotencyKeyReusedError(command.type === 'RequestNotification' ? command.data.idempotencyKey ?? '' : '');
  }
}
