import type { Channel } from '../domain/channels.ts';
import type { Recorded } from '../domain/events.ts';
import { statusOf, type RouteState, type Status } from '../domain/notification.ts';
import { TRACKING_EVENT_TYPES } from '../domain/tracking.ts';
import type { Projection } from './projection.ts';

export interface TimelineEntry {
  type: string;
  at: string;
  [detail: string]: unknown;
}

export type NotificationLogDoc = {
  id: string;
  /** The app that sent it (event metadata); GET endpoints show an app only its own notifications. */
  appId?: string;
  userId: string;
  channel: Channel;
  category: string;
  priority: string;
  status: Status;
  sendAt?: string;
  routes: Record<string, RouteState>;
  opened: boolean;
  /** Tracking flags; absent on documents built before tracking existed. */
  delivered?: boolean;
  clicked?: boolean;
  bounced?: boolean;
  requestedAt: string;
  updatedAt: string;
  events: TimelineEntry[];
};

/** What the timeline shows of an event: its facts, without the content or the notification id again. */
function timelineEntry(event: Recorded): TimelineEntry {
  const { notificationId: _id, content: _content, userId: _user, at, ...details } = event.data as Record<string, unknown> & { at: string };
  return { type: event.type, at, ...details };
}

export function evolveNotificationLog(doc: NotificationLogDoc | null, event: Recorded): NotificationLogDoc | null {
  if (event.type === 'NotificationRequested') {
    const d = event.data;
    return {
      id: d.notificationId,
      ...(typeof event.metadata.appId === 'string' ? { appId: event.metadata.appId } : {}),
      userId: d.userId,
      channel: d.channel,
      category: d.category,
      priority: d.priority,
      status: d.sendAt && d.sendAt > d.at ? 'scheduled' : 'requested',
      ...(d.sendAt ? { sendAt: d.sendAt } : {}),
      routes: Object.fromEntries(d.routes.map((r) => [r, 'pending'])),
      opened: false,
      requestedAt: d.at,
      updatedAt: d.at,
      events: [timelineEntry(event)],
    };
  }
  if (!doc) return doc;
  const next = { ...doc, updatedAt: (event.data as { at: string }).at, events: [...doc.events, timelineEntry(event)] };
  const routeTo = (route: string, state: RouteState, status?: Status) => {
    const routes = { ...doc.routes, [route]: state };
    const shaped = Object.fromEntries(Object.entries(routes).map(([r, s]) => [r, { state: s }]));
    return { ...next, routes, status: statusOf(shaped, status ?? doc.status) };
  };
  switch (event.type) {
    case 'NotificationSuppressed':
      return { ...next, status: 'suppressed' };
    case 'NotificationCancelled':
      return { ...next, status: 'cancelled' };
    case 'NotificationSent':
      return routeTo(event.data.route, 'sent');
    case 'NotificationFailed':
      return routeTo(event.data.route, 'failed');
    case 'DeliveryRedriven':
      return routeTo(event.data.route, 'pending', doc.status === 'failed' ? 'requested' : doc.status);
    case 'DeliveryDue':
      return doc.status === 'scheduled' ? { ...next, status: 'requested' } : next;
    case 'NotificationOpened':
      return { ...next, opened: true };
    case 'NotificationDelivered':
      return { ...next, delivered: true };
    case 'NotificationClicked':
      return { ...next, clicked: true };
    case 'NotificationBounced':
      return { ...next, bounced: true };
    default:
      return next;
  }
}

export const notificationLog: Projection<NotificationLogDoc> = {
  name: 'notifications',
  // v3: DeliveryAttemptFailed, DeliveryDue and DeliveryRedriven reach the document (v2 dropped them in keyOf).
  version: 3,
  collection: { name: 'notifications', indexes: [['userId', 'requestedAt'], 'status', ['appId', 'requestedAt']] },
  eventTypes: ['NotificationRequested', 'NotificationSuppressed', 'NotificationSent', 'NotificationFailed', 'DeliveryAttemptFailed', 'DeliveryDue', 'DeliveryRedriven', 'NotificationCancelled', ...TRACKING_EVENT_TYPES],
  keyOf: (event) => {
    const id = (event.data as { notificationId?: unknown }).notificationId;
    return typeof id === 'string' ? id : null;
  },
  evolve: evolveNotificationLog,
};
