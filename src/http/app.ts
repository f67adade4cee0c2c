import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from './deps.ts';
import { errorHandler, Problem, sendProblem } from './problem.ts';
import { deadLettersRoutes } from './routes/deadLetters.ts';
import { notificationsRoutes } from './routes/notifications.ts';
import { usersRoutes } from './routes/users.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated client application; 'bootstrap' for the first-start / HERALD_API_KEY key. */
    appId: string;
  }
}

/** The HTTP API as a fastify instance; the caller decides whether to listen or to inject. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.limits.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => deps.ids.next(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, req, new Problem(404, 'route_not_found', 'Not found', `no route ${req.method} ${req.url.split('?')[0]}`)));
  app.decorateRequest('appId', '');

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/v1/')) return;
    const header = req.headers.authorization;
    const key = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (!key || !deps.apiKeys.verify(key)) {
      throw new Problem(401, 'unauthorized', 'Unauthorized', 'send Authorization: Bearer <api key>; the key is printed on first start or set with HERALD_API_KEY', {});
    }
    req.appId = 'bootstrap';
  });

  app.get('/health', { schema: { tags: ['operations'], summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  await app.register(usersRoutes(deps));
  await app.register(notificationsRoutes(deps));
  await app.register(deadLettersRoutes(deps));
  return app;
}
