/**
 * Analytics bucket documents: counters for one (day or hour) × channel × category × template, plus
 * latency histograms. Histograms use fixed log-scale buckets (four per doubling, so a percentile read
 * from them is within ±9 % of the true value): a document stays small whatever the volume, and two
 * documents merge by adding counts, which is how a query over several buckets gets its percentiles.
 */

export type Granularity = 'day' | 'hour';
export const GRANULARITIES: readonly Granularity[] = ['day', 'hour'];

/** Outcomes counted once per notification (see analytics.ts for when each one counts). */
export const COUNTERS = ['requested', 'sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'spam', 'undelivered', 'cancelled'] as const;
export type Counter = (typeof COUNTERS)[number];
export type ByReason = 'failed' | 'suppressed';
export type LatencyKind = 'sent' | 'delivered';

/** Sparse histogram: bucket index → count. Index 0 holds < 1 ms; index i ≥ 1 holds [2^((i-1)/4), 2^(i/4)) ms. */
export type Histogram = Record<string, number>;

export type BucketDoc = {
  granularity: Granularity;
  /** UTC start of the bucket: 2026-11-23 (day) or 2026-11-23T10:00Z (hour). */
  bucket: string;
  channel: string;
  category: string;
  template: string;
  failed: Record<string, number>;
  suppressed: Record<string, number>;
  latency: Record<LatencyKind, Histogram>;
} & Record<Counter, number>;

/** One change to a bucket: a counter, a reason counter (delta -1 un-counts a redriven failure), or a latency sample. */
export type Effect =
  | { kind: 'count'; counter: Counter }
  | { kind: 'reason'; of: ByReason; reason: string; delta: 1 | -1 }
  | { kind: 'latency'; of: LatencyKind; ms: number };

export interface BucketCoordinates {
  channel: string;
  category: string;
  template: string;
  /** ISO time the notification was requested: every outcome counts in the bucket of its request (cohort). */
  requestedAt: string;
}

export function bucketStart(granularity: Granularity, iso: string): string {
  const t = iso.endsWith('Z') && iso.length >= 20 ? iso : new Date(iso).toISOString();
  return granularity === 'day' ? t.slice(0, 10) : `${t.slice(0, 13)}:00Z`;
}

/** The URI-encoded `channel|category|template` of a notification's bucket ids: computed once per event for both granularities. */
export function bucketParts(at: Pick<BucketCoordinates, 'channel' | 'category' | 'template'>): string {
  return [at.channel, at.category, at.template].map(encodeURIComponent).join('|');
}

/**
 * `day|2026-11-23|sms|order-updates|none`: the bucket's granularity, start and the notification's
 * `bucketParts` (URI-encoded, so a `|` in a category cannot collide).
 */
export function bucketIdOf(granularity: Granularity, requestedAt: string, parts: string): string {
  return `${granularity}|${bucketStart(granularity, requestedAt)}|${parts}`;
}

/** The day and hour ids of the buckets of one hour, for one `channel|category|template`. */
interface HourIds {
  /** The first 13 characters of a UTC ISO time in that hour: `2026-11-23T10`. */
  hour: string;
  ids: readonly [day: string, hour: string];
}

/** channel → category → template → the ids of the hour last asked for. */
const recentIds = new Map<string, Map<string, Map<string, HourIds>>>();
let recentCount = 0;
/** Combinations remembered at most: then they are all forgotten, and the next ones remembered afresh. */
const MAX_RECENT_IDS = 10_000;

/**
 * `[bucketIdOf('day', …), bucketIdOf('hour', …)]` for a notification, remembered per
 * channel, category and template for the hour last asked. Every effectful analytics event asks,
 * and nearly always for a combination and hour it asked before: this saves building four strings,
 * and hands the projector the same id strings each time, which a Map compares and hashes faster.
 */
export function bucketIdsOf(at: BucketCoordinates): readonly [day: string, hour: string] {
  const iso = at.requestedAt;
  // Remembered only for a UTC time (what Herald writes), whose first 13 characters are its hour.
  if (!(iso.endsWith('Z') && iso.length >= 20)) {
    const parts = bucketParts(at);
    return [bucketIdOf('day', iso, parts), bucketIdOf('hour', iso, parts)];
  }
  let byCategory = recentIds.get(at.channel);
  if (!byCategory) recentIds.set(at.channel, (byCategory = new Map<string, Map<string, HourIds>>()));
  let byTemplate = byCategory.get(at.category);
  if (!byTemplate) byCategory.set(at.category, (byTemplate = new Map<string, HourIds>()));
  const known = byTemplate.get(at.template);
  if (known && iso.startsWith(known.hour)) return known.ids;
  if (!known && (recentCount += 1) > MAX_RECENT_IDS) {
    recentIds.clear();
    recentCount = 0;
  }
  const parts = bucketParts(at);
  const ids = [bucketIdOf('day', iso, parts), bucketIdOf('hour', iso, parts)] as const;
  byTemplate.set(at.template, { hour: iso.slice(0, 13), ids });
  return ids;
}

export function emptyBucket(granularity: Granularity, at: BucketCoordinates): BucketDoc {
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Record<Counter, number>;
  const { channel, category, template } = at;
  return { granularity, bucket: bucketStart(granularity, at.requestedAt), channel, category, template, ...counters, failed: {}, suppressed: {}, latency: { sent: {}, delivered: {} } };
}

export function histogramIndex(ms: number): number {
  return ms < 1 ? 0 : Math.floor(4 * Math.log2(ms)) + 1;
}

/** The value a bucket stands for: the geometric middle of its bounds, rounded to the millisecond. */
function representative(index: number): number {
  return index === 0 ? 0 : Math.round(2 ** ((index - 0.5) / 4));
}

/**
 * The bucket with the effects applied. Pure for its caller: it copies the bucket, and each nested
 * map an effect changes, once per call, and changes only those copies (a bucket takes hundreds of
 * events per projector batch, and every effectful event reaches two buckets).
 */
export function applyEffects(doc: BucketDoc, effects: readonly Effect[]): BucketDoc {
  const next = copyBucket(doc);
  for (const e of effects) {
    if (e.kind === 'count') next[e.counter] += 1;
    else if (e.kind === 'reason') {
      const counts = next[e.of] === doc[e.of] ? (next[e.of] = { ...doc[e.of] }) : next[e.of];
      const n = (counts[e.reason] ?? 0) + e.delta;
      if (n <= 0) delete counts[e.reason];
      else if (e.reason in counts) counts[e.reason] = n;
      else next[e.of] = withKeySorted(counts, e.reason, n);
    } else {
      const latency = next.latency === doc.latency ? (next.latency = { sent: doc.latency.sent, delivered: doc.latency.delivered }) : next.latency;
      const histogram = latency[e.of] === doc.latency[e.of] ? (latency[e.of] = { ...doc.latency[e.of] }) : latency[e.of];
      const i = String(histogramIndex(e.ms));
      histogram[i] = (histogram[i] ?? 0) + 1;
    }
  }
  return next;
}

/**
 * `counts` with a new key, keys in sorted order: a bucket's reason map then reads the same however
 * its events were ordered, as a rebuild stream by stream orders them (Projection.streamLocal).
 * Reasons are few and a new one rare, so the copy costs nothing that shows.
 */
function withKeySorted(counts: Record<string, number>, key: string, n: number): Record<string, number> {
  const sorted: Record<string, number> = {};
  for (const k of [...Object.keys(counts), key].sort()) sorted[k] = k === key ? n : counts[k]!;
  return sorted;
}

/**
 * A copy of the bucket, field by field in emptyBucket's order. Not `{ ...doc }`: Node 20's V8
 * copies an object spread from an earlier copy in its runtime (about 180 ns for a bucket, against
 * 10 ns for this), and every effectful event copies two buckets. A bucket has only these fields:
 * emptyBucket makes them and applyEffects changes their values.
 */
function copyBucket(doc: BucketDoc): BucketDoc {
  return {
    granularity: doc.granularity, bucket: doc.bucket, channel: doc.channel, category: doc.category, template: doc.template,
    requested: doc.requested, sent: doc.sent, delivered: doc.delivered, opened: doc.opened, clicked: doc.clicked,
    bounced: doc.bounced, unsubscribed: doc.unsubscribed, spam: doc.spam, undelivered: doc.undelivered, cancelled: doc.cancelled,
    failed: doc.failed, suppressed: doc.suppressed, latency: doc.latency,
  };
}

export function mergeHistograms(histograms: readonly Histogram[]): Histogram {
  const merged: Histogram = {};
  for (const h of histograms) for (const [i, n] of Object.entries(h)) merged[i] = (merged[i] ?? 0) + n;
  return merged;
}

/** Nearest-rank percentile (0 < p ≤ 1) in ms, or null when the histogram is empty. */
export function percentile(histogram: Histogram, p: number): number | null {
  const entries = Object.entries(histogram).map(([i, n]) => [Number(i), n] as const).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [i, n] of entries) {
    seen += n;
    if (seen >= rank) return representative(i);
  }
  return representative(entries.at(-1)![0]);
}
