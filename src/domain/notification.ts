/**
 * The notification aggregate: one stream per (user, channel) notification. Pure: decide and evolve;
 * time comes in as `now`, ids come in with the command.
 */
import type { RejectReason, Route } from '../ports/deliveryProvider.ts';
import type { Channel, ChannelContent } from './channels.ts';
import { exhaustive } from './user.ts';

export const notificationStream = (id: string) => `notification-${id}`;

export type Priority = 'high' | 'normal';
export type SuppressReason = 'no_address' | 'unknown_user';
export type Status = 'requested' | 'sent' | 'failed' | 'suppressed';

export interface Delivery {
  /** Masked address: the event log is no place for full contact details. */
  to: string;
  providerMessageId: string;
}

export interface Rejection {
  to: string;
  reason: RejectReason;
}

export type NotificationEvent =
  | {
      type: 'NotificationRequested';
      data: {
        notificationId: string;
        userId: string;
        channel: Channel;
        category: string;
        content: ChannelContent;
        routes: Route[];
        priority: Priority;
        idempotencyKey?: string;
        requestHash?: string;
        at: string;
      };
    }
  | { type: 'NotificationSuppressed'; data: { notificationId: string; reason: SuppressReason; at: string } }
  | { type: 'NotificationSent'; data: { notificationId: string; route: Route; provider: string; deliveries: Delivery[]; rejected: Rejection[]; at: string } }
  | { type: 'NotificationFailed'; data: { notificationId: string; route: Route; provider: string; reason: string; permanent: boolean; rejected: Rejection[]; at: string } }
  | { type: 'NotificationOpened'; data: { notificationId: string; at: string } };

export type NotificationEventType = NotificationEvent['type'];

export type RequestData = Omit<Extract<NotificationEvent, { type: 'NotificationRequested' }>['data'], 'at'>;

/** What a route's delivery attempt came to, as the processor saw it. */
export type DeliveryOutcome =
  | { kind: 'sent'; provider: string; deliveries: Delivery[]; rejected: Rejection[] }
  | { kind: 'failed'; provider: string; reason: string; permanent: boolean; rejected: Rejection[] };

export type NotificationCommand =
  | { type: 'RequestNotification'; data: RequestData }
  | { type: 'RecordDelivery'; data: { notificationId: string; route: Route; outcome: DeliveryOutcome } }
  | { type: 'RecordOpen'; data: { notificationId: string } };

export type RouteState = 'pending' | 'sent' | 'failed';

export type NotificationState =
  | { exists: false }
  | {
      exists: true;
      request: RequestData;
      status: Status;
      routes: Partial<Record<Route, RouteState>>;
      opened: boolean;
    };

export const initialNotificationState = (): NotificationState => ({ exists: false });

export class NotificationNotFoundError extends Error {
  readonly code = 'notification_not_found';
  constructor(readonly notificationId: string) {
    super(`notification ${notificationId} does not exist`);
  }
}

function statusOf(routes: Partial<Record<Route, RouteState>>): Status {
  const states = Object.values(routes);
  if (states.includes('sent')) return 'sent';
  if (states.length > 0 && states.every((s) => s === 'failed')) return 'failed';
  return 'requested';
}

export function evolveNotification(state: NotificationState, event: NotificationEvent): NotificationState {
  if (event.type === 'NotificationRequested') {
    const { at: _at, ...request } = event.data;
    const routes = Object.fromEntries(request.routes.map((r) => [r, 'pending' as const]));
    return { exists: true, request, status: 'requested', routes, opened: false };
  }
  if (!state.exists) return state;
  switch (event.type) {
    case 'NotificationSuppressed':
      return { ...state, status: 'suppressed' };
    case 'NotificationSent':
    case 'NotificationFailed': {
      const routes = { ...state.routes, [event.data.route]: event.type === 'NotificationSent' ? 'sent' : 'failed' };
      return { ...state, routes, status: state.status === 'suppressed' ? 'suppressed' : statusOf(routes) };
    }
    case 'NotificationOpened':
      return { ...state, opened: true };
    default:
      return exhaustive(event);
  }
}

export function decideNotification(command: NotificationCommand, state: NotificationState, now: string): NotificationEvent[] {
  switch (command.type) {
    case 'RequestNotification': {
      if (state.exists) return [];
      const requested: NotificationEvent = { type: 'NotificationRequested', data: { ...command.data, at: now } };
      if (command.data.routes.length > 0) return [requested];
      return [requested, { type: 'NotificationSuppressed', data: { notificationId: command.data.notificationId, reason: 'no_address', at: now } }];
    }
    case 'RecordDelivery': {
      if (!state.exists) throw new NotificationNotFoundError(command.data.notificationId);
      const { notificationId, route, outcome } = command.data;
      // Idempotent: a redelivered message for a route that already has its outcome adds nothing.
      if (state.routes[route] !== 'pending' || state.status === 'suppressed') return [];
      if (outcome.kind === 'sent') {
        return [{ type: 'NotificationSent', data: { notificationId, route, provider: outcome.provider, deliveries: outcome.deliveries, rejected: outcome.rejected, at: now } }];
      }
      const { provider, reason, permanent, rejected } = outcome;
      return [{ type: 'NotificationFailed', data: { notificationId, route, provider, reason, permanent, rejected, at: now } }];
    }
    case 'RecordOpen':
      if (!state.exists) throw new NotificationNotFoundError(command.data.notificationId);
      return state.opened ? [] : [{ type: 'NotificationOpened', data: { notificationId: command.data.notificationId, at: now } }];
    default:
      return exhaustive(command);
  }
}
