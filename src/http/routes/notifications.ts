import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { handle } from '../../commands/handle.ts';
import { notificationAggregate, sendNotification, type SendContext } from '../../commands/sendNotification.ts';
import { DEFAULT_MAX_SEND_AHEAD_DAYS, PartlySentError } from '../../commands/sendErrors.ts';
import { cancelNotification } from '../../commands/cancelNotification.ts';
import { partlySentProblem, sendErrorProblem, serverProblem } from '../sendErrors.ts';
import { NotificationNotCancellableError, NotificationNotDeliveredError, NotificationNotFoundError, notificationStream, type NotificationCommand } from '../../domain/notification.ts';
import { decodeEvent } from '../../codec/events.ts';
import { evolveNotificationLog, notificationLog, type NotificationLogDoc } from '../../projections/notificationLog.ts';
import type { AppDeps } from '../deps.ts';
import { queryInt, queryParams } from '../query.ts';
import { Problem, problemBody } from '../problem.ts';
import { seesAllApps } from '../guards.ts';
import { nextCursorField, notBoth, notBothMessage, pageCursor, pageOf } from '../paging.ts';
import { batchBody, categoryName, batchResponse, isoTime, notificationId, notificationResponse, sendBody, sendResponse, userId } from '../schemas.ts';

/**
 * One notification is one short stream: folding it with the read model's own function gives the
 * same document the projector builds, with no projection lag (read your writes right after a send).
 */
async function findNotification(deps: AppDeps, id: string): Promise<NotificationLogDoc | null> {
  const events = await deps.events.readStream(notificationStream(id));
  return events.reduce<NotificationLogDoc | null>((doc, raw) => {
    const event = decodeEvent(raw);
    return event ? evolveNotificationLog(doc, event) : doc;
  }, null);
}

const sendContext = (deps: AppDeps, req: FastifyRequest): SendContext => ({
  store: deps.events, now: deps.now, ids: deps.ids, scope: req.appId, metadata: { appId: req.appId, requestId: req.id }, defaultRateLimit: deps.policy?.defaultRateLimit ?? null, userRateLimit: deps.policy?.userRateLimit ?? null,
  unsubscribeLinks: deps.tracking?.listUnsubscribe === true, maxSendAheadDays: deps.limits.maxSendAheadDays ?? DEFAULT_MAX_SEND_AHEAD_DAYS,
});

export function notificationsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/v1/notifications', {
      schema: {
        tags: ['notifications'],
        summary: 'Send a notification to one or many users; one notification per (user, channel)',
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(255).optional() }),
        body: sendBody(deps.limits.maxRecipients),
        response: { 202: sendResponse },
      },
    }, async (req, reply) => {
      const idempotencyKey = req.body.idempotencyKey ?? req.headers['idempotency-key'];
      try {
        const result = await sendNotification(sendContext(deps, req), { ...req.body, ...(idempotencyKey ? { idempotencyKey } : {}) });
        return reply.status(202).send(result);
      } catch (error) {
        if (!(error instanceof PartlySentError)) throw sendErrorProblem(error) ?? error;
        const problem = partlySentProblem(error, '', (cause) => serverProblem(req, cause));
        if (problem.status === 503 || problem.status === 409) void reply.header('retry-after', '1');
        throw problem;
      }
    });

    app.post('/v1/notifications/batch', {
      schema: {
        tags: ['notifications'],
        summary: 'Many sends in one request: each item is a POST /v1/notifications body with its own result (202 when every item is accepted, 207 when some are not)',
        description: 'An Idempotency-Key header gives each item without an idempotencyKey of its own the key `<header>/<index>`, so the same batch sent again sends nothing twice.',
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(240).optional() }),
        body: batchBody(deps.limits.maxRecipients),
        response: { 202: batchResponse, 207: batchResponse },
      },
    }, async (req, reply) => {
      const headerKey = req.headers['idempotency-key'];
      const ctx = sendContext(deps, req);
      // All items at once: their reads and appends share the store's batches (one commit per turn).
      const settled = await Promise.allSettled(req.body.requests.map((item, index) => {
        const idempotencyKey = item.idempotencyKey ?? (headerKey ? `${headerKey}/${index}` : undefined);
        return sendNotification(ctx, { ...item, ...(idempotencyKey ? { idempotencyKey } : {}) });
      }));
      const accepted = settled.filter((s) => s.status === 'fulfilled').length;
      const results = settled.map((s, index) => {
        if (s.status === 'fulfilled') return { index, status: 202 as const, ...s.value };
        if (s.reason instanceof PartlySentError) {
          const problem = partlySentProblem(s.reason, `/requests/${index}`, (cause) => serverProblem(req, cause, index));
          return { index, status: problem.status, error: problemBody(problem) };
        }
        const clients = sendErrorProblem(s.reason, `/requests/${index}`);
        // Nothing accepted because of our side (the store is down): answer as a single send would,
        // with 503 and Retry-After, so the client retries the batch as a whole.
        if (!clients && accepted === 0 && !settled.some((o) => o.status === 'rejected' && o.reason instanceof PartlySentError)) throw s.reason;
        const problem = clients ?? serverProblem(req, s.reason, index);
        return { index, status: problem.status, error: problemBody(problem) };
      });
      // Items worth sending again soon (the store away, a contended stream): when, as a single send says it.
      if (results.some((r) => r.status === 503 || r.status === 409)) void reply.header('retry-after', '1');
      return reply.status(accepted === results.length ? 202 : 207).send({ accepted, rejected: results.length - accepted, results });
    });

    app.get('/v1/notifications/:id', {
      schema: { tags: ['notifications'], summary: 'A notification\'s status and event timeline', params: z.object({ id: notificationId }), response: { 200: notificationResponse } },
    }, async (req) => {
      const doc = await findNotification(deps, req.params.id);
      if (!doc) throw new Problem(404, 'notification_not_found', 'Notification not found', `no notification ${req.params.id}`);
      return doc;
    });

    app.get('/v1/users/:userId/notifications', {
      schema: {
        tags: ['notifications'],
        summary: 'A user\'s notifications, newest first',
        params: z.object({ userId }),
        querystring: queryParams({
          limit: queryInt(1, 200).default(50),
          offset: queryInt(0, 100_000).default(0),
          cursor: pageCursor.optional(),
          status: z.enum(['requested', 'scheduled', 'sent', 'failed', 'suppressed', 'cancelled']).optional().describe('only notifications in this status'),
          channel: z.enum(['push', 'sms', 'email']).optional(),
          category: categoryName.optional(),
          from: isoTime.optional().describe('only notifications requested at or after this time'),
          to: isoTime.optional().describe('only notifications requested at or before this time'),
        })
          .refine(notBoth, notBothMessage)
          .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'from is after to', path: ['from'] }),
        response: { 200: z.object({ notifications: z.array(notificationResponse), nextCursor: nextCursorField }) },
      },
    }, async (req) => {
      const { limit, offset, cursor, from, to, ...filters } = req.query;
      const found = await deps.readModels.find(notificationLog.collection.name, {
        // Each app lists only what it sent; an admin key lists everything (see http/guards.ts).
        // The filters narrow one user's notifications, found through the user's index.
        where: { userId: req.params.userId, ...(seesAllApps(req) ? {} : { appId: req.appId }), ...definedOnly(filters) },
        ...(from || to ? { range: { field: 'requestedAt', ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) } } : {}),
        orderBy: { field: 'requestedAt', direction: 'desc' },
        limit: limit + 1,
        offset,
        ...(cursor ? { after: cursor } : {}),
      });
      const { docs, nextCursor } = pageOf(found, limit, 'requestedAt');
      return { notifications: docs.map((d) => d.doc as NotificationLogDoc), nextCursor };
    });

    app.delete('/v1/notifications/:id', {
      schema: { tags: ['notifications'], summary: 'Cancel a notification that has not been delivered anywhere yet (e.g. scheduled); the rate slot it held is given back once nothing of its request went out', params: z.object({ id: notificationId }), response: { 200: notificationResponse } },
    }, async (req) => {
      try {
        await cancelNotification(deps.events, req.params.id, { now: deps.now, metadata: { appId: req.appId } });
      } catch (error) {
        if (error instanceof NotificationNotFoundError) throw new Problem(404, error.code, 'Notification not found', error.message);
        if (error instanceof NotificationNotCancellableError) throw new Problem(409, error.code, 'Too late to cancel', error.message);
        throw error;
      }
      return (await findNotification(deps, req.params.id))!;
    });

    app.post('/v1/notifications/:id/opened', {
      schema: { tags: ['notifications'], summary: 'Record that the user opened the notification', params: z.object({ id: notificationId }), response: { 202: z.object({ id: z.string(), opened: z.literal(true) }) } },
    }, async (req, reply) => {
      await recordReport(deps, req.appId, { type: 'RecordOpen', data: { notificationId: req.params.id } });
      return reply.status(202).send({ id: req.params.id, opened: true as const });
    });

    app.post('/v1/notifications/:id/delivered', {
      schema: {
        tags: ['notifications'],
        summary: 'Record that the notification reached the device (push: APNs and FCM send no receipts); once',
        params: z.object({ id: notificationId }),
        response: { 202: z.object({ id: z.string(), delivered: z.literal(true) }) },
      },
    }, async (req, reply) => {
      await recordReport(deps, req.appId, { type: 'RecordTracking', data: { notificationId: req.params.id, fact: { kind: 'delivered', source: 'app' } } });
      return reply.status(202).send({ id: req.params.id, delivered: true as const });
    });

    app.post('/v1/notifications/:id/clicked', {
      schema: {
        tags: ['notifications'],
        summary: 'Record that the user clicked the notification (or a link in it); once per URL',
        params: z.object({ id: notificationId }),
        // nullish: a report without a URL (a push tapped) may come with no body at all.
        body: z.strictObject({ url: z.string().min(1).max(2048).optional() }).nullish(),
        response: { 202: z.object({ id: z.string(), clicked: z.literal(true) }) },
      },
    }, async (req, reply) => {
      const url = req.body?.url;
      await recordReport(deps, req.appId, { type: 'RecordTracking', data: { notificationId: req.params.id, fact: { kind: 'clicked', source: 'app', ...(url ? { url } : {}) } } });
      return reply.status(202).send({ id: req.params.id, clicked: true as const });
    });
  };
}

/** An app's report on one of its notifications (opened, delivered, clicked): 404 for none, 409 for one that reached no one. */
async function recordReport(deps: AppDeps, appId: string, command: Extract<NotificationCommand, { type: 'RecordOpen' | 'RecordTracking' }>): Promise<void> {
  try {
    await handle(deps.events, notificationStream(command.data.notificationId), notificationAggregate, command, { now: deps.now, metadata: { appId } });
  } catch (error) {
    if (error instanceof NotificationNotFoundError) throw new Problem(404, error.code, 'Notification not found', error.message);
    if (error instanceof NotificationNotDeliveredError) throw new Problem(409, error.code, 'Never delivered', error.message);
    throw error;
  }
}

const definedOnly = (fields: Record<string, string | undefined>): Record<string, string> => Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined));
