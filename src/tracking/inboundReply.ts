/**
 * Inbound STOP and START replies, acted on once each. Twilio signs no timestamp, so a captured,
 * genuinely signed START posted again after the recipient has texted STOP would opt them back in,
 * against their latest word. Each reply acted on is recorded under its provider message id on a
 * stream of its own (one read to tell a repeat, whatever the number of replies before it).
 */
import { encodeEvent } from '../codec/events.ts';
import { providerReplyStream, type ProviderEvent } from '../domain/providerEvents.ts';
import { maskAddress } from '../mask.ts';
import { WrongExpectedRevisionError } from '../ports/eventStore.ts';
import { optInAddress, optOutAddress, type TrackingContext } from './ingest.ts';

export interface InboundReply {
  provider: string;
  /**
   * The provider's id of the inbound message (Twilio's MessageSid): the same on every copy of it.
   * Only a STOP may come without one (acted on every time: opting out twice is the same as once).
   */
  messageId?: string;
  from: string;
  keyword: 'stop' | 'start';
}

const act = (ctx: TrackingContext, { provider, from, keyword }: InboundReply) =>
  keyword === 'stop'
    ? optOutAddress(ctx, { channel: 'sms', address: from, reason: 'stop_reply', source: provider })
    : optInAddress(ctx, { channel: 'sms', address: from, source: provider });

/** Opts the sender out (STOP) or back in (START) unless this very message was acted on before. */
export async function handleInboundReply(ctx: TrackingContext, reply: InboundReply & ({ keyword: 'stop' } | { messageId: string })): Promise<{ repeated: boolean; changed: number }> {
  const { provider, messageId, from, keyword } = reply;
  if (messageId === undefined) return { repeated: false, changed: await act(ctx, reply) };
  const stream = providerReplyStream(provider, messageId);
  if ((await ctx.events.readStream(stream, { maxCount: 1 })).length > 0) return { repeated: true, changed: 0 };
  const changed = await act(ctx, reply);
  // Recorded after acting, so a failure in between leaves a resent copy to act again, never a reply
  // marked handled that changed nothing. Opting out or in twice is the same as once.
  const event: ProviderEvent = { type: 'ProviderReplyHandled', data: { provider, messageId, keyword, from: maskAddress(from), changed, at: ctx.now().toISOString() } };
  try {
    await ctx.events.append(stream, [encodeEvent(event)], 'no_stream');
  } catch (error) {
    // A copy that arrived at the same time recorded it first: it did the same.
    if (!(error instanceof WrongExpectedRevisionError)) throw error;
  }
  return { repeated: false, changed };
}
