/**
 * The write of a send: the rate slot it takes and its notifications, each on a new stream, and
 * what a notification stream that already exists means (a repeat of an idempotent request).
 */
import { WrongExpectedRevisionError, type StreamAppend } from '../ports/eventStore.ts';
import type { Channel } from '../domain/channels.ts';
import { decideNotification, evolveNotification, initialNotificationState, notificationStream, type NotificationCommand } from '../domain/notification.ts';
import { encodeEvent } from '../codec/events.ts';
import { load } from './handle.ts';
import { IdempotencyKeyReusedError } from './sendErrors.ts';
import { idempotentId } from './idempotentId.ts';
import type { SendContext } from './sendNotification.ts';

/** One notification of a send, decided and ready to append. */
export interface Planned {
  id: string;
  channel: Channel;
  status: 'requested' | 'scheduled' | 'suppressed';
  command: NotificationCommand;
}

/**
 * Appends the rate slot (when one is taken) and then each notification on its own new stream, in
 * one `appendInOrder`. A notification whose stream already exists is a repeat (or a racing twin)
 * of an idempotent request: checked, then the appends after it go on. A slot whose window moved
 * rejects, for takeSlot to decide again.
 */
export async function appendSend(ctx: SendContext, takes: readonly StreamAppend[], planned: readonly Planned[], requestHash: string | undefined): Promise<void> {
  const now = ctx.now().toISOString();
  const notifications = planned.map(({ id, command }): StreamAppend => ({
    stream: notificationStream(id),
    events: decideNotification(command, initialNotificationState(), now).map((e) => encodeEvent(e, ctx.metadata)),
    expected: 'no_stream',
  }));
  let appends = [...takes, ...notifications];
  while (appends.length > 0) {
    try {
      await ctx.store.appendInOrder(appends);
      return;
    } catch (error) {
      const k = error instanceof WrongExpectedRevisionError ? appends.findIndex((a) => a.stream === error.stream) : -1;
      if (k < 0 || takes.includes(appends[k]!)) throw error;
      await sameRequest(ctx, planned[notifications.indexOf(appends[k]!)]!, requestHash);
      appends = appends.slice(k + 1);
    }
  }
}

const loadNotification = async (ctx: SendContext, id: string) => (await load(ctx.store, notificationStream(id), { initial: initialNotificationState, evolve: evolveNotification })).state;

/** The stream of an idempotent request's notification exists: it must be this request's. */
async function sameRequest(ctx: SendContext, { id, command }: Planned, requestHash: string | undefined): Promise<void> {
  const state = await loadNotification(ctx, id);
  if (!state.exists || state.request.requestHash !== requestHash) throw new IdempotencyKeyReusedError(command.type === 'RequestNotification' ? command.data.idempotencyKey ?? '' : '');
}

/**
 * The notifications an idempotent request already wrote for this user, by channel, with the status
 * it was answered with (a retry after a timeout or a partial failure); an IdempotencyKeyReusedError
 * when one of them belongs to another request under the same key.
 */
export async function earlierSend(ctx: SendContext, key: string, userId: string, channels: readonly Channel[], requestHash: string | undefined): Promise<Map<Channel, { id: string; status: Planned['status'] }>> {
  const found = new Map<Channel, { id: string; status: Planned['status'] }>();
  await Promise.all(channels.map(async (channel) => {
    const id = idempotentId(ctx.scope, key, userId, channel);
    const state = await loadNotification(ctx, id);
    if (!state.exists) return;
    if (state.request.requestHash !== requestHash) throw new IdempotencyKeyReusedError(key);
    found.set(channel, { id, status: state.status === 'suppressed' || state.status === 'scheduled' ? state.status : 'requested' });
  }));
  return found;
}
