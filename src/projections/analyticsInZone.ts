/**
 * Analytics in an analyst's time zone (`GET /v1/analytics?tz=America/New_York`). Buckets are kept
 * per UTC day and UTC hour; a local day is made of the UTC hours it holds (23, 24 or 25 of them,
 * the days the clocks change), added up as histograms add up. A zone whose offset is not whole
 * hours (Asia/Kolkata, +05:30) splits UTC hours at its midnight, which hour buckets cannot follow:
 * its days are refused with how to get what it can give (its hours, labelled in local time).
 */
import type { ReadModelStore } from '../ports/readModelStore.ts';
import { localDateTime, offsetText, startOfLocalDate } from '../domain/timeZones.ts';
import { analytics } from './analytics.ts';
import { bucketStart, COUNTERS, emptyBucket, mergeHistograms, type BucketDoc, type Granularity } from './analyticsBuckets.ts';
import { toRow, type AnalyticsQuery, type AnalyticsRow } from './analyticsQuery.ts';

/** Hour buckets read for local days at most: about 10 channel × category × template series over a year. */
export const MAX_HOUR_BUCKETS = 100_000;

export class ZonedAnalyticsError extends Error {
  constructor(readonly code: 'time_zone_not_whole_hours' | 'range_too_large', message: string) {
    super(message);
  }
}

export type ZonedQuery = Omit<AnalyticsQuery, 'from' | 'to'> & { timeZone: string; from: Date; to: Date };

const HOUR_MS = 3_600_000;

function notWholeHours(zone: string, at: { offset: number }): void {
  if (at.offset % 60 === 0) return;
  throw new ZonedAnalyticsError('time_zone_not_whole_hours', `${zone} is UTC${offsetText(at.offset)} in this range, so its days do not start on a UTC hour and hour buckets cannot be split at its midnight; ask for groupBy=hour with this tz (hours labelled in local time) and add up the ones you need`);
}
const nextDate = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/** Buckets of the same channel, category and template added up into one labelled `bucket` (an analyst's local day made of UTC hours). */
function mergeBuckets(granularity: Granularity, bucket: string, docs: readonly BucketDoc[]): BucketDoc {
  const first = docs[0]!;
  const merged = emptyBucket(granularity, { channel: first.channel, category: first.category, template: first.template, requestedAt: '1970-01-01T00:00:00.000Z' });
  merged.bucket = bucket;
  const add = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
  };
  for (const doc of docs) {
    for (const c of COUNTERS) merged[c] += doc[c];
    add(merged.failed, doc.failed);
    add(merged.suppressed, doc.suppressed);
  }
  merged.latency = { sent: mergeHistograms(docs.map((d) => d.latency.sent)), delivered: mergeHistograms(docs.map((d) => d.latency.delivered)) };
  return merged;
}

/**
 * Rows per local day or local hour. Days: every local date from `from`'s to `to`'s, whole. Hours:
 * the hours holding `from` to `to`, each labelled with its local start and offset
 * (2026-11-23T19:00-05:00).
 */
export async function queryAnalyticsInZone(readModels: ReadModelStore, q: ZonedQuery): Promise<AnalyticsRow[]> {
  const zone = q.timeZone;
  const first = q.groupBy === 'day' ? startOfLocalDate(localDateTime(q.from, zone).date, zone) : q.from;
  const last = q.groupBy === 'day' ? new Date(startOfLocalDate(nextDate(localDateTime(q.to, zone).date), zone).getTime() - HOUR_MS) : q.to;
  if (q.groupBy === 'day') for (const at of [first, last]) notWholeHours(zone, localDateTime(at, zone));
  const where: Record<string, string> = { granularity: 'hour' };
  if (q.channel) where.channel = q.channel;
  if (q.category) where.category = q.category;
  if (q.template) where.template = q.template;
  const limit = q.groupBy === 'day' ? MAX_HOUR_BUCKETS : q.limit;
  const found = await readModels.find(analytics.collection.name, {
    where,
    range: { field: 'bucket', gte: bucketStart('hour', first.toISOString()), lte: bucketStart('hour', last.toISOString()) },
    orderBy: { field: 'bucket', direction: 'asc' },
    limit,
  });
  const docs = found.map((d) => d.doc as unknown as BucketDoc);
  const local = new Map<string, ReturnType<typeof localDateTime>>();
  const localOf = (bucket: string) => {
    let at = local.get(bucket);
    if (!at) local.set(bucket, (at = localDateTime(new Date(bucket), zone)));
    return at;
  };
  if (q.groupBy === 'hour') {
    return docs.map((doc) => {
      const at = localOf(doc.bucket);
      const hhmm = `${String(Math.floor(at.minutes / 60)).padStart(2, '0')}:${String(at.minutes % 60).padStart(2, '0')}`;
      return { ...toRow(doc), bucket: `${at.date}T${hhmm}${offsetText(at.offset)}` };
    });
  }
  if (docs.length >= limit) throw new ZonedAnalyticsError('range_too_large', `the range holds more than ${MAX_HOUR_BUCKETS} hour buckets, too many to add up into local days in one request; narrow from/to or filter by channel, category or template`);
  const days = new Map<string, BucketDoc[]>();
  for (const doc of docs) {
    const at = localOf(doc.bucket);
    notWholeHours(zone, at);
    const key = [at.date, doc.channel, doc.category, doc.template].join('\u0000');
    const day = days.get(key);
    if (day) day.push(doc);
    else days.set(key, [doc]);
  }
  const rows = [...days].map(([key, group]) => toRow(mergeBuckets('day', key.split('\u0000')[0]!, group)));
  const order = (r: AnalyticsRow) => [r.bucket, r.channel, r.category, r.template].join('\u0000');
  return rows.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0)).slice(0, q.limit);
}
