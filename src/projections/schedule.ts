import type { Recorded } from '../domain/events.ts';
import type { Projection } from './projection.ts';

export interface DueEntry {
  route: string;
  attempt: number;
  dueAt: string;
}

/**
 * What is waiting for a time: scheduled sends (sendAt), retries (retryAt, of a route, of the
 * devices a sent route did not reach, or of a sent route whose message was reported undelivered) and quiet-hours holds (until), per notification.
 */
export type ScheduleDoc = {
  notificationId: string;
  due: DueEntry[];
  /** Earliest dueAt: the scheduler's index. */
  nextDueAt: string;
};

function withDue(notificationId: string, due: DueEntry[]): ScheduleDoc | null {
  if (due.length === 0) return null;
  return { notificationId, due, nextDueAt: due.map((d) => d.dueAt).sort()[0]! };
}

const NOTHING_DUE: readonly DueEntry[] = [];
const without = (due: readonly DueEntry[], route: string) => due.filter((d) => d.route !== route);

export function evolveSchedule(doc: ScheduleDoc | null, event: Recorded): ScheduleDoc | null {
  const current = doc?.due ?? NOTHING_DUE;
  switch (event.type) {
    case 'NotificationRequested': {
      const { sendAt, at, routes, notificationId } = event.data;
      return sendAt && sendAt > at ? withDue(notificationId, routes.map((route) => ({ route, attempt: 1, dueAt: sendAt }))) : doc;
    }
    case 'DeliveryAttemptFailed': {
      const { route, attempt, retryAt, notificationId } = event.data;
      return withDue(notificationId, [...without(current, route), { route, attempt: attempt + 1, dueAt: retryAt }]);
    }
    case 'DeliveryDue': {
      const { route, attempt, notificationId } = event.data;
      return withDue(notificationId, current.filter((d) => d.route !== route || d.attempt > attempt));
    }
    case 'DeliveryHeld': {
      // Due again, the same attempt, when the user's quiet hours end.
      const { route, attempt, until, notificationId } = event.data;
      return withDue(notificationId, [...without(current, route), { route, attempt, dueAt: until }]);
    }
    case 'NotificationSent':
    case 'UnsentDevicesRetried':
    case 'MessageUndelivered': {
      // Its unsent devices, or the whole route after an undelivered report, are tried again at retryAt, as the route's next attempt.
      const { route, attempt, retryAt, notificationId } = event.data;
      const rest = without(current, route);
      return withDue(notificationId, retryAt === undefined ? rest : [...rest, { route, attempt: (attempt ?? 1) + 1, dueAt: retryAt }]);
    }
    case 'NotificationFailed':
    case 'DeliveryRedriven':
      return withDue(event.data.notificationId, without(current, event.data.route));
    case 'NotificationCancelled':
    case 'NotificationSuppressed':
      return null;
    default:
      return doc;
  }
}

export const schedule: Projection<ScheduleDoc> = {
  name: 'schedule',
  // 2: DeliveryHeld and UnsentDevicesRetried. A build before them skipped those events and moved its
  // checkpoint past them (after a rollback, or beside a newer worker): v1 documents may lack a held
  // attempt or a device retry, so they are rebuilt.
  // 3: MessageUndelivered (a resend after an undelivered report): v2 documents may lack one.
  version: 3,
  // Sparse: the scheduler asks for a range of nextDueAt, and a delivered notification's tombstone has none.
  collection: { name: 'schedule', indexes: [{ fields: ['nextDueAt'], sparse: true }] },
  eventTypes: ['NotificationRequested', 'DeliveryAttemptFailed', 'DeliveryDue', 'DeliveryHeld', 'NotificationSent', 'UnsentDevicesRetried', 'MessageUndelivered', 'NotificationFailed', 'DeliveryRedriven', 'NotificationCancelled', 'NotificationSuppressed'],
  // By the field, not by the event type's name: UnsentDevicesRetried is neither Notification… nor Delivery….
  keyOf: (event) => {
    const id = (event.data as { notificationId?: unknown }).notificationId;
    return typeof id === 'string' ? id : null;
  },
  evolve: evolveSchedule,
  // Keyed by notification id: every event of a notification is in its own stream.
  streamLocal: true,
};
