/**
 * Provider events that could not be matched to a notification when they arrived: an unknown
 * message id, or one whose NotificationSent the provider_messages read model has not seen yet.
 * They are stored, never dropped, on one stream per provider, and marked once a later retry
 * matched them. Pure: the fold that says which ones are still open.
 */
import type { TrackingFact } from './tracking.ts';

export const providerEventsStream = (provider: string) => `provider-events-${provider}`;
/** One stream per inbound reply acted on: a repeat of the same message finds it and changes nothing. */
export const providerReplyStream = (provider: string, messageId: string) => `provider-reply-${provider}-${messageId}`;

export type ProviderEvent =
  | {
      type: 'ProviderEventUnmatched';
      data: {
        provider: string;
        providerMessageId?: string;
        notificationId?: string;
        fact: TrackingFact;
        /** Masked: enough to investigate, not to contact anyone. */
        to?: string;
        at: string;
      };
    }
  /** A retry matched the unmatched event at `revision` of the same stream and recorded its fact. */
  | { type: 'ProviderEventMatched'; data: { provider: string; revision: number; notificationId: string; at: string } }
  /**
   * An inbound STOP or START reply, by its provider message id (Twilio's MessageSid), was acted on:
   * `changed` users were opted out or back in. `from` is masked.
   */
  | { type: 'ProviderReplyHandled'; data: { provider: string; messageId: string; keyword: 'stop' | 'start'; from: string; changed: number; at: string } };

export interface OpenUnmatched {
  revision: number;
  data: Extract<ProviderEvent, { type: 'ProviderEventUnmatched' }>['data'];
}

/** The unmatched events of one provider stream that no later ProviderEventMatched settled. */
export function openUnmatched(events: readonly (ProviderEvent & { revision: number })[]): OpenUnmatched[] {
  const matched = new Set(events.flatMap((e) => (e.type === 'ProviderEventMatched' ? [e.data.revision] : [])));
  return events.flatMap((e) => (e.type === 'ProviderEventUnmatched' && !matched.has(e.revision) ? [{ revision: e.revision, data: e.data }] : []));
}
