/**
 * Recording tracking facts: from the app and our own pixel and links (the notification id is
 * known), and from provider webhooks (matched by our id, echoed back by SendGrid, or by the
 * provider's message id through the provider_messages read model). A fact that matches nothing
 * yet is stored on the provider's stream, never dropped, and can be matched again later.
 */
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import { decodeEvent, encodeEvent } from '../codec/events.ts';
import { handle, load, type Loaded } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { handleUserCommand } from '../commands/users.ts';
import { notificationStream, type NotificationState } from '../domain/notification.ts';
import { isTrackingEvent, type TrackingFact } from '../domain/tracking.ts';
import { openUnmatched, providerEventsStream, type OpenUnmatched, type ProviderEvent } from '../domain/providerEvents.ts';
import { contacts } from '../projections/contacts.ts';
import { providerMessages, type ProviderMessageDoc } from '../projections/providerMessages.ts';
import { maskAddress, maskedLink } from '../mask.ts';
import type { ProviderFact } from './providerFacts.ts';
import type { RetryPolicy } from '../processors/retryPolicy.ts';
import type { DeliveryMetrics } from '../ports/metrics.ts';
import { recordSettlement } from '../settlementMetrics.ts';
import { resendTerms } from './undeliveredResend.ts';

export interface TrackingContext {
  events: EventStore;
  readModels: ReadModelStore;
  now: () => Date;
  /** The delivery retry policy an undelivered report's resend follows (default: DEFAULT_RETRY_POLICY). */
  retryPolicy?: RetryPolicy;
  random?: () => number;
  /** Counts undelivered reports acted on (herald_deliveries_total outcomes undelivered_*). */
  metrics?: DeliveryMetrics;
}

export interface IngestResult {
  received: number;
  recorded: number;
  duplicates: number;
  unmatched: number;
  optedOut: number;
}

/** Records one fact on a known notification; true when it was new. Throws NotificationNotFoundError. */
export async function recordTracking(ctx: TrackingContext, notificationId: string, fact: TrackingFact, metadata: Record<string, unknown> = {}): Promise<boolean> {
  const command = { type: 'RecordTracking' as const, data: { notificationId, fact } };
  const { events } = await handle(ctx.events, notificationStream(notificationId), notificationAggregate, command, { now: ctx.now, metadata });
  return events.length > 0;
}

type Matched = { notificationId: string; userId: string; loaded: Loaded<NotificationState> };

/** The notification (and its user) a provider fact belongs to, as just read, or null when none matches for sure. */
async function match(ctx: TrackingContext, item: Pick<ProviderFact, 'notificationId' | 'providerMessageId'>): Promise<Matched | null> {
  const candidates = new Set<string>();
  if (item.notificationId) candidates.add(item.notificationId);
  else if (item.providerMessageId) {
    const docs = await ctx.readModels.find(providerMessages.collection.name, { where: { providerMessageId: item.providerMessageId }, limit: 2 });
    // Two notifications under one id (a batched SendGrid request) is ambiguous: better unmatched than wrong.
    if (docs.length === 1) candidates.add((docs[0]!.doc as ProviderMessageDoc).notificationId);
  }
  for (const notificationId of candidates) {
    const loaded = await load(ctx.events, notificationStream(notificationId), notificationAggregate);
    if (loaded.state.exists) return { notificationId, userId: loaded.state.request.userId, loaded };
  }
  return null;
}

/**
 * Records a provider's fact on the notification it matched and, when it is a passing undelivered
 * report on a route's latest message, that route's resend (or its giving up) in the same append:
 * a store that fails keeps neither, so the same report coming again (an operator's retry of one
 * stored unmatched, a repeated callback) still acts on it. True when the fact was new.
 */
async function recordProviderFact(ctx: TrackingContext, found: Matched, item: Pick<ProviderFact, 'provider' | 'providerMessageId' | 'fact'> & { at?: string }): Promise<boolean> {
  const { notificationId, loaded } = found;
  const resend = resendTerms(ctx, loaded.state, item);
  const command = { type: 'RecordTracking' as const, data: { notificationId, fact: item.fact, ...(resend ? { resend: resend.terms } : {}) } };
  const { events } = await handle(ctx.events, notificationStream(notificationId), notificationAggregate, command, { now: ctx.now, known: loaded, metadata: { provider: item.provider } });
  if (resend && ctx.metrics) recordSettlement(ctx.metrics, resend.route, item.provider, events, 0);
  return events.some(isTrackingEvent);
}

/** The users whose current contact details hold this address, an email in any case (contacts read model indexes both). */
async function usersWithAddress(ctx: TrackingContext, channel: 'email' | 'sms', address: string): Promise<string[]> {
  const where: Record<string, string> = channel === 'email' ? { emailKey: address.trim().toLowerCase() } : { phone: address };
  return (await ctx.readModels.find(contacts.collection.name, { where, limit: 100 })).map((d) => d.id);
}

/** Opts the address out for every user who has it (and the matched notification's user); returns how many changed. */
export async function optOutAddress(ctx: TrackingContext, opt: { channel: 'email' | 'sms'; address: string; reason: NonNullable<ProviderFact['optOut']>['reason']; source: string; notificationId?: string; userId?: string }): Promise<number> {
  const users = new Set(await usersWithAddress(ctx, opt.channel, opt.address));
  if (opt.userId) users.add(opt.userId);
  let changed = 0;
  for (const userId of users) {
    const { channel, address, reason, source, notificationId } = opt;
    const { events } = await handleUserCommand({ store: ctx.events, now: ctx.now }, { type: 'OptOutContact', data: { userId, channel, address, reason, source, ...(notificationId ? { notificationId } : {}) } });
    changed += events.length;
  }
  return changed;
}

/** Lifts the address's opt-out for every user who has it (a START reply); returns how many changed. */
export async function optInAddress(ctx: TrackingContext, opt: { channel: 'email' | 'sms'; address: string; source: string }): Promise<number> {
  let changed = 0;
  for (const userId of await usersWithAddress(ctx, opt.channel, opt.address)) {
    const { events } = await handleUserCommand({ store: ctx.events, now: ctx.now }, { type: 'OptInContact', data: { userId, ...opt, reason: 'start_reply' } });
    changed += events.length;
  }
  return changed;
}

/** Stores a fact that matched nothing on its provider's stream; returns it as stored. */
async function storeUnmatched(ctx: TrackingContext, item: ProviderFact): Promise<OpenUnmatched> {
  const event: Extract<ProviderEvent, { type: 'ProviderEventUnmatched' }> = {
    type: 'ProviderEventUnmatched',
    data: {
      provider: item.provider,
      ...(item.providerMessageId ? { providerMessageId: item.providerMessageId } : {}),
      ...(item.notificationId ? { notificationId: item.notificationId } : {}),
      // A clicked link's query can hold the recipient's address or a sign-in token: stored as the
      // logs show URLs (a late match records it so too), which still tells which link it was.
      fact: item.fact.kind === 'clicked' && item.fact.url ? { ...item.fact, url: maskedLink(item.fact.url) } : item.fact,
      ...(item.to ? { to: maskAddress(item.to) } : {}),
      at: ctx.now().toISOString(),
    },
  };
  const { nextExpectedRevision } = await ctx.events.append(providerEventsStream(item.provider), [encodeEvent(event)], 'any');
  return { revision: nextExpectedRevision, data: event.data };
}

/**
 * Records a webhook's facts in order; one that fails to match is stored, handed to `late` to be
 * tried again once its send may be known, and opt-outs happen either way.
 */
export async function ingestProviderFacts(ctx: TrackingContext, items: readonly ProviderFact[], late?: { later(provider: string, unmatched: OpenUnmatched): void }): Promise<IngestResult> {
  const result: IngestResult = { received: items.length, recorded: 0, duplicates: 0, unmatched: 0, optedOut: 0 };
  for (const item of items) {
    const found = await match(ctx, item);
    if (found) {
      // The tracking fact is kept once per notification; each message's undelivered report acts all the same.
      result[(await recordProviderFact(ctx, found, item)) ? 'recorded' : 'duplicates'] += 1;
    } else {
      // Stored first, whether or not a late matcher is given: in `late?.later(…)` the call's
      // arguments are not evaluated at all when `late` is undefined.
      const stored = await storeUnmatched(ctx, item);
      late?.later(item.provider, stored);
      result.unmatched += 1;
    }
    if (item.optOut && item.to) {
      const notificationId = found?.notificationId;
      result.optedOut += await optOutAddress(ctx, { ...item.optOut, address: item.to, source: item.provider, ...(found ? { notificationId, userId: found.userId } : {}) });
    }
  }
  return result;
}

async function readProviderStream(ctx: TrackingContext, provider: string): Promise<(ProviderEvent & { revision: number })[]> {
  const raw = await ctx.events.readStream(providerEventsStream(provider));
  return raw.flatMap((r) => {
    const e = decodeEvent(r);
    return e && (e.type === 'ProviderEventUnmatched' || e.type === 'ProviderEventMatched') ? [e] : [];
  });
}

export async function listUnmatched(ctx: TrackingContext, provider: string): Promise<OpenUnmatched[]> {
  return openUnmatched(await readProviderStream(ctx, provider));
}

/**
 * Matches one stored unmatched event again: records its fact on the notification found and marks
 * it matched. Returns that notification's id, or null when it still matches nothing.
 */
export async function settleUnmatched(ctx: TrackingContext, provider: string, { revision, data }: OpenUnmatched): Promise<string | null> {
  const found = await match(ctx, data);
  if (!found) return null;
  await recordProviderFact(ctx, found, { ...data, provider: data.provider as ProviderFact['provider'] });
  const event: ProviderEvent = { type: 'ProviderEventMatched', data: { provider, revision, notificationId: found.notificationId, at: ctx.now().toISOString() } };
  await ctx.events.append(providerEventsStream(provider), [encodeEvent(event)], 'any');
  return found.notificationId;
}

/** Tries every still-unmatched event of a provider again (late events whose send is now known). */
export async function retryUnmatched(ctx: TrackingContext, provider: string): Promise<{ matched: number; unmatched: number }> {
  const open = await listUnmatched(ctx, provider);
  let matched = 0;
  for (const unmatched of open) if (await settleUnmatched(ctx, provider, unmatched)) matched += 1;
  return { matched, unmatched: open.length - matched };
}
