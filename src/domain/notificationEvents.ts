import type { RejectReason, Route } from '../ports/deliveryProvider.ts';
import type { Channel, ChannelContent } from './channels.ts';

export type Priority = 'high' | 'normal';
export type SuppressReason = 'no_address' | 'unknown_user' | 'channel_opted_out' | 'category_opted_out' | 'marketing_unsubscribed' | 'rate_limited' | 'expired';
export type Status = 'requested' | 'scheduled' | 'sent' | 'failed' | 'suppressed' | 'cancelled';

export interface Delivery {
  /** Masked address: the event log is no place for full contact details. */
  to: string;
  providerMessageId: string;
}

export interface Rejection {
  to: string;
  reason: RejectReason;
}

/** An address whose call failed for a passing reason (a timeout, a 503) while the route reached another. */
export interface Unsent {
  to: string;
  reason: string;
  /**
   * SHA-256 (hex) of the full address, as the device's own stream is named: what a retry of the
   * unsent devices picks them out by among the user's active ones, without the token in this log.
   * Recorded since 2026-11-29; without it (older events) a device is not tried again.
   */
  tokenDigest?: string;
}

export interface RequestData {
  notificationId: string;
  userId: string;
  channel: Channel;
  category: string;
  /**
   * Whether the category was transactional when requested (it then ignored category and marketing
   * opt-outs). Recorded since 2026-11-28; absent on older events, which are treated as unknown.
   */
  transactional?: boolean;
  content: ChannelContent;
  routes: Route[];
  priority: Priority;
  /** ISO time before which nothing is sent. */
  sendAt?: string;
  /** ISO time after which it is not sent at all (suppressed, reason `expired`): news that is stale by then. */
  expiresAt?: string;
  /** The template the content was rendered from; the rendered content itself is what is recorded. */
  template?: { id: string; version: number; locale: string | null };
  /** Why Herald itself moved sendAt: quiet hours or a full rate window. */
  heldFor?: 'quiet_hours' | 'rate_limited';
  idempotencyKey?: string;
  requestHash?: string;
  /**
   * The rate slot this notification holds, with the window streams it was taken in and the
   * notifications of the same request for this user that share it (itself included). Recorded
   * since 2026-11-28, so that cancelling them all releases it; absent when no limit applied.
   */
  rateSlot?: { slotId: string; windows: string[]; notificationIds: string[] };
}

type Ref = { notificationId: string; at: string };

export type NotificationEvent =
  | { type: 'NotificationRequested'; data: RequestData & { at: string } }
  | { type: 'NotificationSuppressed'; data: Ref & { reason: SuppressReason } }
  /**
   * `unsent`: addresses of this route (a user's other devices) whose call failed for a reason
   * that might have passed, while another address took it. Absent when there were none.
   * `retryAt`: those devices alone are tried again then, as attempt `attempt + 1` (see
   * UnsentDevicesRetried); absent when they are not (no attempts left, or an event from before
   * 2026-11-29, when unsent devices were never tried again).
   */
  | { type: 'NotificationSent'; data: Ref & { route: Route; provider: string; attempt?: number; deliveries: Delivery[]; rejected: Rejection[]; unsent?: Unsent[]; retryAt?: string } }
  /**
   * An attempt at the devices a sent route did not reach (NotificationSent's `unsent`), and only
   * them: which took it now (`deliveries`), which refused it for good (`rejected`; a dead token
   * is invalidated as on any send) and which still did not get it (`unsent`). With `retryAt`,
   * those are tried again then, as attempt `attempt + 1`; without it this ends the retry: every
   * device took or refused it, attempts ran out, or it was not sent at all (each unsent entry's
   * reason says why: `expired`, or `no_address` when none of them is the user's any more).
   * The route stays `sent` throughout.
   */
  | { type: 'UnsentDevicesRetried'; data: Ref & { route: Route; provider: string; attempt: number; deliveries: Delivery[]; rejected: Rejection[]; unsent: Unsent[]; retryAt?: string } }
  /**
   * The route's message of attempt `attempt` did not reach the recipient, for a reason that may
   * pass: the provider reported its latest message (`providerMessageId`) undelivered after taking
   * it (Twilio 30003, handset off; see docs/tracking.md), or a resend after such a report failed or
   * was not made (expired, opted out since, no number any more: `reason` says so). With `retryAt`
   * the whole route is sent again then, as attempt `attempt + 1`; without it the route is given up
   * (attempts ran out, or the failure was permanent). The route stays `sent` throughout.
   */
  | { type: 'MessageUndelivered'; data: Ref & { route: Route; attempt: number; reason: string; providerMessageId?: string; retryAt?: string } }
  /** A transient failure with attempts left: the route is retried at `retryAt`. */
  | { type: 'DeliveryAttemptFailed'; data: Ref & { route: Route; provider: string; attempt: number; reason: string; retryAt: string; rejected: Rejection[] } }
  /** A scheduled send or a retry came due: the route's worker delivers attempt `attempt` now. */
  | { type: 'DeliveryDue'; data: Ref & { route: Route; attempt: number } }
  /**
   * A route's attempt came due (or was retried, redriven, or taken late) inside the user's quiet
   * hours as they are now: it waits until `until`, when the scheduler makes it due again.
   */
  | { type: 'DeliveryHeld'; data: Ref & { route: Route; attempt: number; until: string; reason: 'quiet_hours' } }
  | { type: 'NotificationFailed'; data: Ref & { route: Route; provider: string; reason: string; permanent: boolean; attempts?: number; rejected: Rejection[] } }
  /** An operator sent a failed route back for delivery (dead-letter redrive). */
  | { type: 'DeliveryRedriven'; data: Ref & { route: Route } }
  | { type: 'NotificationCancelled'; data: Ref }
  /** A high-priority notification: its own lane per route, so a backlog of normal ones never delays it. */
  | { type: 'NotificationExpedited'; data: Ref & { routes: Route[] } }
  | { type: 'NotificationOpened'; data: Ref & TrackingRef }
  /** Tracking facts reported by the app, the email pixel and links, or a provider's webhook (see tracking.ts). */
  | { type: 'NotificationDelivered'; data: Ref & Tracked }
  | { type: 'NotificationClicked'; data: Ref & Tracked & { url?: string } }
  | { type: 'NotificationBounced'; data: Ref & Tracked & { bounce: 'hard' | 'soft'; reason?: string } }
  | { type: 'NotificationUnsubscribed'; data: Ref & Tracked }
  | { type: 'NotificationMarkedAsSpam'; data: Ref & Tracked }
  | { type: 'NotificationUndelivered'; data: Ref & Tracked & { reason?: string } };

/**
 * Who reported a tracking fact: the app's SDK, our own email pixel, link or one-click unsubscribe
 * (the List-Unsubscribe header, listUnsubscribe.ts), or a provider webhook.
 */
export type TrackingSource = 'app' | 'email_pixel' | 'email_link' | 'list_unsubscribe' | 'sendgrid' | 'twilio';
/** Optional on NotificationOpened only because opens were recorded before sources existed. */
type TrackingRef = { source?: TrackingSource; providerEventId?: string };
type Tracked = { source: TrackingSource; providerEventId?: string };

export type NotificationEventType = NotificationEvent['type'];
