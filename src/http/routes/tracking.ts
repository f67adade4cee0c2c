import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { NotificationNotFoundError } from '../../domain/notification.ts';
import { listUnmatched, recordTracking, retryUnmatched } from '../../tracking/ingest.ts';
import type { LinkToken } from '../../tracking/linkToken.ts';
import type { TrackingConfig } from '../../tracking/config.ts';
import type { AppDeps } from '../deps.ts';
import { queryInt, queryParams } from '../query.ts';
import { linkTokenOf } from '../linkTokens.ts';
import { trackingContext } from '../trackingContext.ts';

/** The smallest transparent GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const provider = z.enum(['sendgrid', 'twilio']);
const unmatched = z.object({ revision: z.number(), provider: z.string(), providerMessageId: z.string().optional(), notificationId: z.string().optional(), kind: z.string(), to: z.string().optional(), at: z.string() });

/**
 * Email tracking endpoints (public: the recipient's mail client calls them, with no key; the
 * signed token is the only credential) and the operators' view of unmatched provider events.
 * Routes use a wildcard rather than `:token` because a click token carries its URL, whose length
 * only the request line's limit bounds (named parameters stop at the router's maxParamLength, app.ts).
 */
export function trackingRoutes(deps: AppDeps, tracking: TrackingConfig): FastifyPluginAsyncZod {
  const ctx = trackingContext(deps);
  const tokenOf = <K extends LinkToken['kind']>(raw: string, kind: K) => linkTokenOf(tracking.secret, raw, kind);
  /** A failure to record must never cost the recipient their image or their destination. */
  const record = async (token: LinkToken, fact: Parameters<typeof recordTracking>[2], log: { warn(o: object, m: string): void }) => {
    try {
      await recordTracking(ctx, token.notificationId, fact, { source: fact.source });
    } catch (error) {
      if (!(error instanceof NotificationNotFoundError)) log.warn({ err: error, notificationId: token.notificationId }, 'cannot record a tracking event');
    }
  };
  return async (app) => {
    app.get('/t/o/*', {
      schema: { tags: ['tracking'], summary: 'Email open pixel (1x1 GIF); records NotificationOpened', params: z.object({ '*': z.string().max(8192) }) },
    }, async (req, reply) => {
      const token = tokenOf(req.params['*'], 'open');
      await record(token, { kind: 'opened', source: 'email_pixel' }, req.log);
      return reply.header('cache-control', 'no-store, no-cache, must-revalidate, private').type('image/gif').send(PIXEL);
    });

    app.get('/t/c/*', {
      schema: { tags: ['tracking'], summary: 'Signed click redirect: 302 to the original URL; records NotificationClicked', params: z.object({ '*': z.string().max(8192) }) },
    }, async (req, reply) => {
      const token = tokenOf(req.params['*'], 'click');
      await record(token, { kind: 'clicked', source: 'email_link', url: token.url }, req.log);
      // Links signed before they were signed percent-encoded still carry the raw href (日本, €, ü):
      // encoded here, as a browser would, so the Location header can hold it.
      return reply.header('cache-control', 'no-store, private').redirect(new URL(token.url).href, 302);
    });

    app.get('/v1/tracking/unmatched', {
      schema: {
        tags: ['tracking'],
        summary: 'Provider events that matched no notification when they arrived, oldest first',
        querystring: queryParams({ provider, limit: queryInt(1, 1000).default(100) }),
        response: { 200: z.object({ unmatched: z.array(unmatched), total: z.number() }) },
      },
    }, async (req) => {
      const open = await listUnmatched(ctx, req.query.provider);
      const rows = open.slice(0, req.query.limit).map(({ revision, data }) => ({ revision, ...data, kind: data.fact.kind }));
      return { unmatched: rows, total: open.length };
    });

    app.post('/v1/tracking/unmatched/retry', {
      schema: { tags: ['tracking'], summary: 'Match stored provider events again (late events whose send is now known)', body: z.strictObject({ provider }), response: { 200: z.object({ matched: z.number(), unmatched: z.number() }) } },
    }, async (req) => retryUnmatched(ctx, req.body.provider));
  };
}
