import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Metrics } from '../../metrics.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';
import { bearer } from '../guards.ts';

const CHECK_TIMEOUT_MS = 2000;

/** A check that hangs (a store that stopped answering) counts as down instead of hanging the probe. */
async function passes(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check().then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

const checks = z.record(z.string(), z.boolean());

/** Probes and scrapes: outside /v1, so they need no app key (see docs/operations.md). */
export function operationsRoutes(deps: AppDeps, metrics: Metrics): FastifyPluginAsyncZod {
  const metricsToken = deps.security?.metricsToken ? digest(deps.security.metricsToken) : undefined;
  return async (app) => {
    app.get('/health', { schema: { tags: ['operations'], summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));

    app.get('/ready', {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: both stores answer and background subscriptions are live',
        response: { 200: z.object({ status: z.literal('ready'), checks }), 503: z.looseObject({ code: z.literal('not_ready'), checks }) },
      },
    }, async () => {
      const [eventStore, readModels, background] = await Promise.all([
        passes(() => deps.events.headPosition()),
        passes(() => deps.readModels.ping()),
        deps.readiness ? deps.readiness().catch(() => ({ background: false })) : Promise.resolve({}),
      ]);
      const results: Record<string, boolean> = { eventStore, readModels, ...background };
      const down = Object.entries(results).filter(([, ok]) => !ok).map(([name]) => name);
      if (down.length > 0) throw new Problem(503, 'not_ready', 'Not ready', `not ready: ${down.join(', ')}`, { checks: results });
      return { status: 'ready' as const, checks: results };
    });

    app.get('/metrics', {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        ...(metricsToken ? { security: [{ metricsToken: [] }] } : { security: [] }),
        produces: ['text/plain'],
        response: { 200: z.string() },
      },
    }, async (req, reply) => {
      if (metricsToken) {
        const header = req.headers.authorization ?? '';
        const presented = digest(bearer(header) ?? '');
        if (!timingSafeEqual(presented, metricsToken)) {
          void reply.header('www-authenticate', 'Bearer realm="herald-metrics"');
          throw new Problem(401, 'unauthorized', 'Unauthorized', 'send Authorization: Bearer <HERALD_METRICS_TOKEN>');
        }
      }
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  };
}

/** Subscriptions are live when each of this process's persistent subscription groups answers. */
export async function groupsReady(events: AppDeps['events'], groups: readonly string[]): Promise<Record<string, boolean>> {
  const ok = await Promise.all(groups.map((g) => passes(() => events.persistentSubscriptionInfo(g))));
  return groups.length > 0 ? { subscriptions: ok.every(Boolean) } : {};
}
