import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { findDeadLetters, listParkedDeliveries, redriveDeadLetters, replayParkedDeliveries, UnknownNotificationsError } from '../../commands/deadLetters.ts';
import type { Route } from '../../ports/deliveryProvider.ts';
import { ParkedEventsUnreadableError } from '../../ports/eventStore.ts';
import type { AppDeps } from '../deps.ts';
import { queryInt, queryParams } from '../query.ts';
import { Problem } from '../problem.ts';
import { nextCursorField, notBoth, notBothMessage, pageCursor, pageOf } from '../paging.ts';
import type { DeadLetterDoc } from '../../projections/deadLetters.ts';
import { isoTime } from '../schemas.ts';

const route = z.enum(['apns', 'fcm', 'sms', 'email']);
const filter = {
  channel: z.enum(['push', 'sms', 'email']).optional(),
  route: route.optional(),
  reason: z.string().max(100).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
};
const deadLetterId = z.string().regex(/^[0-9a-f-]{36}:(apns|fcm|sms|email)$/, 'notificationId:route, as listed by GET /v1/dead-letters');
const deadLetter = z.object({ id: z.string(), notificationId: z.string(), route: z.string(), channel: z.string(), provider: z.string(), reason: z.string(), permanent: z.boolean(), attempts: z.number(), failedAt: z.string() });
const parked = z.object({ group: z.string(), route: z.string(), eventType: z.string(), stream: z.string(), position: z.number(), reason: z.string(), parkedAt: z.string() });
const redriveResult = z.object({ redriven: z.number(), parkedReplayed: z.number() });

const parseId = (id: string) => {
  const [notificationId, r] = id.split(':') as [string, Route];
  return { notificationId, route: r };
};

/** A redrive naming a notification that does not exist: 404 with the ids, and nothing redriven. */
async function redrive(ctx: Parameters<typeof redriveDeadLetters>[0], targets: { notificationId: string; route: Route }[]): Promise<number> {
  try {
    return await redriveDeadLetters(ctx, targets);
  } catch (error) {
    if (error instanceof UnknownNotificationsError) throw new Problem(404, error.code, 'Notification not found', error.message, { notificationIds: error.notificationIds });
    throw error;
  }
}

/** The parked events, or, when the store refuses to list them to these credentials, why (the failed ones are still worth showing). */
async function parkedOrWhyNot(deps: AppDeps, limit: number): Promise<{ parked: Awaited<ReturnType<typeof listParkedDeliveries>>; parkedUnreadable?: string }> {
  try {
    return { parked: await listParkedDeliveries(deps.events, limit) };
  } catch (error) {
    if (error instanceof ParkedEventsUnreadableError) return { parked: [], parkedUnreadable: error.message };
    throw error;
  }
}

/** Dead letters: failed routes (after their last attempt, or rejected for good) and parked events. */
export function deadLettersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const ctx = (appId: string) => ({ events: deps.events, now: deps.now, metadata: { appId } });
  return async (app) => {
    app.get('/v1/dead-letters', {
      schema: {
        tags: ['dead letters'],
        summary: 'Failed deliveries, newest first, and events a worker parked',
        querystring: queryParams({ ...filter, limit: queryInt(1, 1000).default(100), offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0), cursor: pageCursor.optional() })
          .refine(notBoth, notBothMessage),
        response: { 200: z.object({ deadLetters: z.array(deadLetter), total: z.number(), nextCursor: nextCursorField, parked: z.array(parked), parkedUnreadable: z.string().optional().describe('present when the event store refused to list the parked events (credentials without read access to them): `parked` is then empty, not a sign that nothing is parked') }) },
      },
    }, async (req) => {
      const { limit, offset, cursor, ...f } = req.query;
      const [found, parkedEvents] = await Promise.all([findDeadLetters(deps.readModels, f, { limit: limit + 1, offset, ...(cursor ? { after: cursor } : {}) }), parkedOrWhyNot(deps, limit)]);
      const { docs, nextCursor } = pageOf(found.docs, limit, 'failedAt');
      return { deadLetters: docs.map((d) => d.doc as DeadLetterDoc), total: found.total, nextCursor, ...parkedEvents };
    });

    app.post('/v1/dead-letters/:id/redrive', {
      schema: { tags: ['dead letters'], summary: 'Send one failed route back for delivery', params: z.object({ id: deadLetterId }), response: { 202: redriveResult } },
    }, async (req, reply) => {
      const redriven = await redrive(ctx(req.appId), [parseId(req.params.id)]);
      if (redriven === 0) throw new Problem(409, 'not_a_dead_letter', 'Nothing to redrive', `${req.params.id} is not failed (it may have been redriven already)`);
      return reply.status(202).send({ redriven, parkedReplayed: 0 });
    });

    app.post('/v1/dead-letters/redrive', {
      schema: {
        tags: ['dead letters'],
        summary: 'Redrive in bulk: listed ids, or everything matching a filter, and optionally the parked events',
        body: z.strictObject({ ids: z.array(deadLetterId).max(10_000).optional(), ...filter, limit: z.number().int().min(1).max(10_000).default(1000), includeParked: z.boolean().default(false) }),
        response: { 202: redriveResult },
      },
    }, async (req, reply) => {
      const { ids, limit, includeParked, ...f } = req.body;
      const targets = ids ? ids.map(parseId) : (await findDeadLetters(deps.readModels, f, { limit, offset: 0 })).docs.map((d) => d.doc as DeadLetterDoc).map((d) => ({ notificationId: d.notificationId, route: d.route as Route }));
      const redriven = await redrive(ctx(req.appId), targets);
      const parkedReplayed = includeParked ? await replayParkedDeliveries(deps.events).catch((error: unknown) => {
        if (!(error instanceof ParkedEventsUnreadableError)) throw error;
        throw new Problem(503, error.code, 'Parked events cannot be replayed', `${redriven} failed deliveries were redriven, but ${error.message}`, { redriven });
      }) : 0;
      return reply.status(202).send({ redriven, parkedReplayed });
    });
  };
}
