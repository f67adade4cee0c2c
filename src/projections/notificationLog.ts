import type { Channel } from '../domain/channels.ts';
import type { Recorded } from '../domain/events.ts';
import type { RouteState, Status } from '../domain/notification.ts';
import type { Projection } from './projection.ts';

export interface TimelineEntry {
  type: string;
  at: string;
  [detail: string]: unknown;
}

export type NotificationLogDoc = {
  id: string;
  userId: string;
  channel: Channel;
  category: string;
  priority: string;
  status: Status;
  routes: Record<string, RouteState>;
  opened: boolean;
  requestedAt: string;
  updatedAt: string;
  events: TimelineEntry[];
};

/** What the timeline shows of an event: its facts, without the content or the notification id again. */
function timelineEntry(event: Recorded): TimelineEntry {
  const { notificationId: _id, content: _content, userId: _user, at, ...details } = event.data as Record<string, unknown> & { at: string };
  return { type: event.type, at, ...details };
}

function statusAfter(routes: Record<string, RouteState>, current: Status): Status {
  if (current === 'suppressed') return current;
  const states = Object.values(routes);
  if (states.includes('sent')) return 'sent';
  if (states.length > 0 && states.every((s) => s === 'failed')) return 'failed';
  return 'requested';
}

export function evolveNotificationLog(doc: NotificationLogDoc | null, event: Recorded): NotificationLogDoc | null {
  if (event.type === 'NotificationRequested') {
    const d = event.data;
    return {
      id: d.notificationId,
      userId: d.userId,
      channel: d.channel,
      category: d.category,
      priority: d.priority,
      status: 'requested',
      routes: Object.fromEntries(d.routes.map((r) => [r, 'pending'])),
      opened: false,
      requestedAt: d.at,
      updatedAt: d.at,
      events: [timelineEntry(event)],
    };
  }
  if (!doc) return doc;
  const next = { ...doc, updatedAt: (event.data as { at: string }).at, events: [...doc.events, timelineEntry(event)] };
  switch (event.type) {
    case 'NotificationSuppressed':
      return { ...next, status: 'suppressed' };
    case 'NotificationSent':
    case 'NotificationFailed': {
      const routes = { ...doc.routes, [event.data.route]: event.type === 'NotificationSent' ? 'sent' : 'failed' } as Record<string, RouteState>;
      return { ...next, routes, status: statusAfter(routes, doc.status) };
    }
    case 'NotificationOpened':
      return { ...next, opened: true };
    default:
      return doc;
  }
}

export const notificationLog: Projection<NotificationLogDoc> = {
  name: 'notifications',
  version: 1,
  collection: { name: 'notifications', indexes: [['userId', 'requestedAt'], 'status'] },
  eventTypes: ['NotificationRequested', 'NotificationSuppressed', 'NotificationSent', 'NotificationFailed', 'NotificationOpened'],
  keyOf: (event) => (event.type.startsWith('Notification') ? (event.data as { notificationId: string }).notificationId : null),
  evolve: evolveNotificationLog,
};
