/** Query shapes of the analytics read model: bucket documents → rows for JSON, and rows → CSV. */
import type { ReadModelStore } from '../ports/readModelStore.ts';
import { analytics } from './analytics.ts';
import { bucketStart, COUNTERS, percentile, type BucketDoc, type Counter, type Granularity } from './analyticsBuckets.ts';

export interface AnalyticsQuery {
  /** ISO dates or times; rows are the buckets from the one holding `from` to the one holding `to`. */
  from: string;
  to: string;
  groupBy: Granularity;
  channel?: string;
  category?: string;
  template?: string;
  limit: number;
}

export type Latency = Record<'sentP50' | 'sentP95' | 'sentP99' | 'deliveredP50' | 'deliveredP95' | 'deliveredP99', number | null>;

export type AnalyticsRow = {
  bucket: string;
  channel: string;
  category: string;
  template: string;
  failed: Record<string, number>;
  suppressed: Record<string, number>;
  /** opened / delivered and clicked / delivered; null while nothing was delivered. */
  openRate: number | null;
  clickRate: number | null;
  /** Milliseconds from when sending was due (request, or sendAt when scheduled) to sent / delivered. */
  latency: Latency;
} & Record<Counter, number>;

const rate = (n: number, of: number) => (of > 0 ? Math.round((n / of) * 10_000) / 10_000 : null);

export function toRow(doc: BucketDoc): AnalyticsRow {
  const counters = Object.fromEntries(COUNTERS.map((c) => [c, doc[c]])) as Record<Counter, number>;
  const { sent, delivered } = doc.latency;
  return {
    bucket: doc.bucket, channel: doc.channel, category: doc.category, template: doc.template, ...counters,
    failed: doc.failed, suppressed: doc.suppressed,
    openRate: rate(doc.opened, doc.delivered), clickRate: rate(doc.clicked, doc.delivered),
    latency: {
      sentP50: percentile(sent, 0.5), sentP95: percentile(sent, 0.95), sentP99: percentile(sent, 0.99),
      deliveredP50: percentile(delivered, 0.5), deliveredP95: percentile(delivered, 0.95), deliveredP99: percentile(delivered, 0.99),
    },
  };
}

/** Rows ordered by bucket; the filters use the collection's (granularity, [channel | category,] bucket) indexes. */
export async function queryAnalytics(readModels: ReadModelStore, q: AnalyticsQuery): Promise<AnalyticsRow[]> {
  const where: Record<string, string> = { granularity: q.groupBy };
  if (q.channel) where.channel = q.channel;
  if (q.category) where.category = q.category;
  if (q.template) where.template = q.template;
  const found = await readModels.find(analytics.collection.name, {
    where,
    range: { field: 'bucket', gte: bucketStart(q.groupBy, q.from), lte: bucketStart(q.groupBy, q.to) },
    orderBy: { field: 'bucket', direction: 'asc' },
    limit: q.limit,
  });
  return found.map((d) => toRow(d.doc as unknown as BucketDoc));
}

const csvCell = (v: string | number | null) => {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * Flat CSV: one column per counter and latency figure, and one `failed_<reason>` or
 * `suppressed_<reason>` column per reason present in the result (0 where a row has none).
 */
export function toCsv(rows: readonly AnalyticsRow[]): string {
  const reasons = (of: 'failed' | 'suppressed') => [...new Set(rows.flatMap((r) => Object.keys(r[of])))].sort();
  const failed = reasons('failed');
  const suppressed = reasons('suppressed');
  const latency = ['sentP50', 'sentP95', 'sentP99', 'deliveredP50', 'deliveredP95', 'deliveredP99'] as const;
  const header = ['bucket', 'channel', 'category', 'template', ...COUNTERS, 'failed', ...failed.map((r) => `failed_${r}`), 'suppressed', ...suppressed.map((r) => `suppressed_${r}`), 'openRate', 'clickRate', ...latency.map((l) => `latency_${l}_ms`)];
  const sum = (m: Record<string, number>) => Object.values(m).reduce((s, n) => s + n, 0);
  const lines = rows.map((r) => [
    r.bucket, r.channel, r.category, r.template, ...COUNTERS.map((c) => r[c]),
    sum(r.failed), ...failed.map((x) => r.failed[x] ?? 0), sum(r.suppressed), ...suppressed.map((x) => r.suppressed[x] ?? 0),
    r.openRate, r.clickRate, ...latency.map((l) => r.latency[l]),
  ].map(csvCell).join(','));
  return [header.map(csvCell).join(','), ...lines].join('\r\n') + '\r\n';
}
