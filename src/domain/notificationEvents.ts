import type { RejectReason, Route } from '../ports/deliveryProvider.ts';
import type { Channel, ChannelContent } from './channels.ts';

export type Priority = 'high' | 'normal';
export type SuppressReason = 'no_address' | 'unknown_user';
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

export interface RequestData {
  notificationId: string;
  userId: string;
  channel: Channel;
  category: string;
  content: ChannelContent;
  routes: Route[];
  priority: Priority;
  /** ISO time before which nothing is sent. */
  sendAt?: string;
  idempotencyKey?: string;
  requestHash?: string;
}

type Ref = { notificationId: string; at: string };

export type NotificationEvent =
  | { type: 'NotificationRequested'; data: RequestData & { at: string } }
  | { type: 'NotificationSuppressed'; data: Ref & { reason: SuppressReason } }
  | { type: 'NotificationSent'; data: Ref & { route: Route; provider: string; attempt?: number; deliveries: Delivery[]; rejected: Rejection[] } }
  /** A transient failure with attempts left: the route is retried at `retryAt`. */
  | { type: 'DeliveryAttemptFailed'; data: Ref & { route: Route; provider: string; attempt: number; reason: string; retryAt: string; rejected: Rejection[] } }
  /** A scheduled send or a retry came due: the route's worker delivers attempt `attempt` now. */
  | { type: 'DeliveryDue'; data: Ref & { route: Route; attempt: number } }
  | { type: 'NotificationFailed'; data: Ref & { route: Route; provider: string; reason: string; permanent: boolean; attempts?: number; rejected: Rejection[] } }
  /** An operator sent a failed route back for delivery (dead-letter redrive). */
  | { type: 'DeliveryRedriven'; data: Ref & { route: Route } }
  | { type: 'NotificationCancelled'; data: Ref }
  /** A high-priority notification: its own lane per route, so a backlog of normal ones never delays it. */
  | { type: 'NotificationExpedited'; data: Ref & { routes: Route[] } }
  | { type: 'NotificationOpened'; data: Ref };

export type NotificationEventType = NotificationEvent['type'];
