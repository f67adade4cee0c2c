import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { queryAnalytics, toCsv } from '../../projections/analyticsQuery.ts';
import { queryAnalyticsInZone, ZonedAnalyticsError } from '../../projections/analyticsInZone.ts';
import { startOfLocalDate } from '../../domain/timeZones.ts';
import { timezone } from '../userSchemas.ts';
import type { AppDeps } from '../deps.ts';
import { queryInt, queryParams } from '../query.ts';
import { Problem } from '../problem.ts';

const DAY_MS = 86_400_000;
/** A date (2026-11-23: its midnight in `tz`, UTC without) or an ISO time with offset. */
const when = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);
const isDate = (v: string) => v.length === 10;
const counts = z.record(z.string(), z.number());
const ms = z.number().nullable();
const row = z.object({
  bucket: z.string(), channel: z.string(), category: z.string(), template: z.string(),
  requested: z.number(), sent: z.number(), delivered: z.number(), opened: z.number(), clicked: z.number(),
  bounced: z.number(), unsubscribed: z.number(), spam: z.number(), undelivered: z.number(), cancelled: z.number(),
  failed: counts, suppressed: counts, openRate: z.number().nullable(), clickRate: z.number().nullable(),
  latency: z.object({ sentP50: ms, sentP95: ms, sentP99: ms, deliveredP50: ms, deliveredP95: ms, deliveredP99: ms }),
});

/** Counts and latencies per day or hour × channel × category × template, as JSON or CSV. */
export function analyticsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/v1/analytics', {
      schema: {
        tags: ['analytics'],
        summary: 'Notification outcomes per bucket (by request time); send Accept: text/csv for CSV',
        description: 'Default range: the last 7 days. Rates are opened/delivered and clicked/delivered. Latencies in ms from when sending was due.',
        querystring: queryParams({
          from: when.optional(),
          to: when.optional(),
          groupBy: z.enum(['day', 'hour']).default('day'),
          channel: z.enum(['push', 'sms', 'email']).optional(),
          category: z.string().min(1).max(100).optional(),
          template: z.string().min(1).max(200).optional(),
          tz: timezone.optional().describe('IANA time zone of the days and hours (e.g. America/New_York); default UTC. Dates in from/to are local dates then'),
          limit: queryInt(1, 100_000).default(10_000),
        }),
        response: { 200: z.union([z.object({ groupBy: z.enum(['day', 'hour']), from: z.string(), to: z.string(), tz: z.string().optional(), rows: z.array(row) }), z.string().describe('CSV, with Accept: text/csv')]) },
      },
    }, async (req, reply) => {
      const { from: fromQ, to: toQ, tz, ...filters } = req.query;
      const instant = (v: string) => (tz && isDate(v) ? startOfLocalDate(v, tz) : new Date(v));
      const to = toQ ? instant(toQ) : deps.now();
      const from = fromQ ? instant(fromQ) : new Date(to.getTime() - 7 * DAY_MS);
      if (from > to) throw new Problem(422, 'bad_range', 'Bad range', `from (${from.toISOString()}) is after to (${to.toISOString()}); swap them`);
      const rows = tz
        ? await queryAnalyticsInZone(deps.readModels, { ...filters, from, to, timeZone: tz }).catch((error: unknown) => {
          throw error instanceof ZonedAnalyticsError ? new Problem(422, error.code, 'Not answerable in this time zone', error.message) : error;
        })
        : await queryAnalytics(deps.readModels, { ...filters, from: from.toISOString(), to: to.toISOString() });
      // CSV only when asked for by name, so `Accept: */*` and browsers keep getting JSON.
      if (/\btext\/csv\b/.test(req.headers.accept ?? '')) {
        return reply.type('text/csv; charset=utf-8').header('content-disposition', 'inline; filename="analytics.csv"').serializer((p: string) => p).send(toCsv(rows));
      }
      return { groupBy: filters.groupBy, from: from.toISOString(), to: to.toISOString(), ...(tz ? { tz } : {}), rows };
    });
  };
}
