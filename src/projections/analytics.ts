/**
 * The analytics read model. One collection, two kinds of document:
 * - `n|<notificationId>`: what analytics must remember about a notification (channel, category,
 *   template, when it was requested, which outcomes were already counted). Later events do not
 *   carry channel or category, and this is where the projection finds them;
 * - `day|…` and `hour|…` buckets (analyticsBuckets.ts), updated through the projector's fan-out.
 * Both live in one collection under one checkpoint, so they are always consistent with each other
 * and a rebuild swaps them together. Every outcome counts in the bucket of the notification's
 * request (a cohort), so open and click rates compare like with like.
 */
import type { Recorded } from '../domain/events.ts';
import type { FanOut, Projection } from './projection.ts';
import { applyEffects, bucketIdsOf, emptyBucket, type BucketDoc, type Counter, type Effect, type Granularity } from './analyticsBuckets.ts';

export type RouteOutcome = 'pending' | 'sent' | 'failed';

export type AnalyticsNotificationDoc = {
  notificationId: string;
  channel: string;
  category: string;
  template: string;
  requestedAt: string;
  /** When sending was due: sendAt for a scheduled notification, else requestedAt. Latency starts here. */
  dueAt: string;
  routes: Record<string, RouteOutcome>;
  /** Outcomes already counted: each counts at most once per notification. */
  counted: Counter[];
  /** The reason counted under `failed`, while every route has failed and none was sent. */
  failedReason: string | null;
};

type Step = { doc: AnalyticsNotificationDoc | null; effects: readonly Effect[] };

export const analyticsNotificationId = (notificationId: string) => `n|${notificationId}`;

/** Template id from NotificationRequested when the request names one (a string or `{ id }`), else "none". */
function templateOf(data: object): string {
  const t = (data as { template?: unknown }).template;
  if (typeof t === 'string' && t) return t;
  if (t && typeof t === 'object' && typeof (t as { id?: unknown }).id === 'string') return (t as { id: string }).id;
  return 'none';
}

const ONCE: Partial<Record<Recorded['type'], Counter>> = {
  NotificationOpened: 'opened',
  NotificationClicked: 'clicked',
  NotificationBounced: 'bounced',
  NotificationUnsubscribed: 'unsubscribed',
  NotificationMarkedAsSpam: 'spam',
  NotificationUndelivered: 'undelivered',
  NotificationCancelled: 'cancelled',
};

const elapsed = (from: string, to: string) => Math.max(0, Date.parse(to) - Date.parse(from));

const NO_EFFECTS: readonly Effect[] = [];
const quiet = (doc: AnalyticsNotificationDoc): Step => ({ doc, effects: NO_EFFECTS });

/**
 * `doc` with new routes, counted outcomes or failure reason, field by field in the order
 * NotificationRequested makes them. Not a spread: Node 20's V8 copies an object spread from an
 * earlier copy in its runtime, several times slower, and this runs for most events.
 */
const changed = (doc: AnalyticsNotificationDoc, routes: Record<string, RouteOutcome>, counted = doc.counted, failedReason = doc.failedReason): AnalyticsNotificationDoc => ({
  notificationId: doc.notificationId, channel: doc.channel, category: doc.category, template: doc.template,
  requestedAt: doc.requestedAt, dueAt: doc.dueAt, routes, counted, failedReason,
});

/** The routes with `route` at `outcome` (a spread and then a set: faster than a spread with a computed key). */
function withRoute(routes: Record<string, RouteOutcome>, route: string, outcome: RouteOutcome): Record<string, RouteOutcome> {
  const next = { ...routes };
  next[route] = outcome;
  return next;
}

/** Counts `counter` once per notification. */
function countOnce(doc: AnalyticsNotificationDoc, counter: Counter, extra?: Effect): Step {
  if (doc.counted.includes(counter)) return quiet(doc);
  return { doc: changed(doc, doc.routes, [...doc.counted, counter]), effects: extra ? [{ kind: 'count', counter }, extra] : [{ kind: 'count', counter }] };
}

/** The new per-notification document and what the event changes in its buckets, computed together. */
export function stepAnalytics(doc: AnalyticsNotificationDoc | null, event: Recorded): Step {
  if (event.type === 'NotificationRequested') {
    if (doc) return quiet(doc);
    const d = event.data;
    const routes: Record<string, RouteOutcome> = {};
    for (const route of d.routes) routes[route] = 'pending';
    return {
      doc: {
        notificationId: d.notificationId, channel: d.channel, category: d.category, template: templateOf(d),
        requestedAt: d.at, dueAt: d.sendAt && d.sendAt > d.at ? d.sendAt : d.at,
        routes, counted: ['requested'], failedReason: null,
      },
      effects: [{ kind: 'count', counter: 'requested' }],
    };
  }
  // Tracking or delivery news about a notification this model never saw requested has no bucket to go to.
  if (!doc) return { doc: null, effects: NO_EFFECTS };
  switch (event.type) {
    case 'NotificationSuppressed':
      // The decider suppresses a notification at most once, and the position guard stops a replay.
      return { doc, effects: [{ kind: 'reason', of: 'suppressed', reason: event.data.reason, delta: 1 }] };
    case 'NotificationSent': {
      // One copy of the document: this is most of the events analytics takes.
      const routes = withRoute(doc.routes, event.data.route, 'sent');
      if (doc.counted.includes('sent')) return quiet(changed(doc, routes));
      return {
        doc: changed(doc, routes, [...doc.counted, 'sent']),
        effects: [{ kind: 'count', counter: 'sent' }, { kind: 'latency', of: 'sent', ms: elapsed(doc.dueAt, event.data.at) }],
      };
    }
    case 'NotificationFailed': {
      const routes = withRoute(doc.routes, event.data.route, 'failed');
      const allFailed = Object.values(routes).every((r) => r === 'failed');
      if (!allFailed || doc.failedReason !== null || doc.counted.includes('sent')) return quiet(changed(doc, routes));
      return { doc: changed(doc, routes, doc.counted, event.data.reason), effects: [{ kind: 'reason', of: 'failed', reason: event.data.reason, delta: 1 }] };
    }
    case 'DeliveryRedriven': {
      // A redriven notification is in flight again: it leaves `failed` until it fails anew.
      const routes = withRoute(doc.routes, event.data.route, 'pending');
      if (doc.failedReason === null) return quiet(changed(doc, routes));
      return { doc: changed(doc, routes, doc.counted, null), effects: [{ kind: 'reason', of: 'failed', reason: doc.failedReason, delta: -1 }] };
    }
    case 'NotificationDelivered':
      return countOnce(doc, 'delivered', { kind: 'latency', of: 'delivered', ms: elapsed(doc.dueAt, event.data.at) });
    default: {
      const counter = ONCE[event.type];
      return counter ? countOnce(doc, counter) : quiet(doc);
    }
  }
}

export const evolveAnalytics = (doc: AnalyticsNotificationDoc | null, event: Recorded) => stepAnalytics(doc, event).doc;

/**
 * A bucket's step for one event: its effects on top of the bucket (or a new one). A class, so that
 * each event makes one object per bucket and no function: tsx compiles with esbuild's keepNames,
 * which names every function (a property's too) each time one is created.
 */
class BucketStep implements FanOut {
  constructor(
    readonly key: string,
    private readonly granularity: Granularity,
    private readonly at: AnalyticsNotificationDoc,
    private readonly effects: readonly Effect[],
  ) {}

  evolve(bucket: object | null): BucketDoc {
    return applyEffects((bucket as BucketDoc | null) ?? emptyBucket(this.granularity, this.at), this.effects);
  }
}

/** The new per-notification document, and the day and hour buckets of the notification that get the event's effects. */
export function evolveAnalyticsWithFanOut(doc: AnalyticsNotificationDoc | null, event: Recorded): { doc: AnalyticsNotificationDoc | null; fanOut: readonly FanOut[] } {
  const { doc: after, effects } = stepAnalytics(doc, event);
  if (!after || effects.length === 0) return { doc: after, fanOut: NO_FAN_OUT };
  const ids = bucketIdsOf(after);
  return { doc: after, fanOut: [new BucketStep(ids[0], 'day', after, effects), new BucketStep(ids[1], 'hour', after, effects)] };
}

const NO_FAN_OUT: readonly FanOut[] = [];

export const ANALYTICS_EVENT_TYPES = [
  'NotificationRequested', 'NotificationSuppressed', 'NotificationSent', 'NotificationFailed', 'DeliveryRedriven', 'NotificationCancelled',
  'NotificationDelivered', 'NotificationOpened', 'NotificationClicked', 'NotificationBounced', 'NotificationUnsubscribed', 'NotificationMarkedAsSpam', 'NotificationUndelivered',
] as const satisfies readonly Recorded['type'][];

export const analytics: Projection<AnalyticsNotificationDoc> = {
  name: 'analytics',
  version: 1,
  // Bucket queries filter on granularity and a bucket range, optionally on channel or category.
  // Sparse: the per-notification documents (one per notification, each written about twice) have
  // no granularity, and only the few bucket documents need to be in these indexes.
  collection: {
    name: 'analytics',
    indexes: [['granularity', 'bucket'], ['granularity', 'channel', 'bucket'], ['granularity', 'category', 'bucket']].map((fields) => ({ fields, sparse: true })),
  },
  eventTypes: ANALYTICS_EVENT_TYPES,
  keyOf: (event) => {
    const id = (event.data as { notificationId?: unknown }).notificationId;
    return typeof id === 'string' ? analyticsNotificationId(id) : null;
  },
  evolve: evolveAnalytics,
  // `n|<notificationId>` is written by that notification's stream only; the buckets are counts and
  // histograms, and their reason maps keep their keys sorted, so any order of events builds them alike.
  streamLocal: true,
  evolveWithFanOut: evolveAnalyticsWithFanOut,
};
