import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { Metrics } from '../metrics.ts';
import type { AppDeps } from './deps.ts';
import { authenticate, dailyQuota, ownNotificationsOnly } from './guards.ts';
import { clientErrorHandler, createErrorHandler, frameworkErrorHandler, Problem, sendProblem } from './problem.ts';
import { maskedUrl } from '../mask.ts';
import { SendQuota } from './quota.ts';
import { requiredScope } from './scopes.ts';
import { appsRoutes } from './routes/apps.ts';
import { appCallbacksRoutes } from './routes/appCallbacks.ts';
import { analyticsRoutes } from './routes/analytics.ts';
import { deadLettersRoutes } from './routes/deadLetters.ts';
import { preferencesRoutes } from './routes/preferences.ts';
import { categoriesRoutes } from './routes/categories.ts';
import { notificationsRoutes } from './routes/notifications.ts';
import { operationsRoutes } from './routes/operations.ts';
import { usersRoutes } from './routes/users.ts';
import { templatesRoutes } from './routes/templates.ts';
import { trackingRoutes } from './routes/tracking.ts';
import { unsubscribeRoutes } from './routes/unsubscribe.ts';
import { webhookRoutes } from './webhooks/routes.ts';
import { allowedMethods } from './allowedMethods.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route as registered (method, URL pattern): what the OpenAPI and auth tests compare with. */
    registeredRoutes: readonly { method: string; url: string; hidden: boolean }[];
  }
}

/** A caller's x-request-id is kept when it is a plain token, so it cannot forge log lines. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const DEFAULT_RATE_PER_MINUTE = 6000;
const DEFAULT_DAILY_QUOTA = 1_000_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** The HTTP API as a fastify instance; the caller decides whether to listen or to inject. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? new Metrics({ processMetrics: false });
  const requestTimeout = deps.limits.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.limits.bodyLimitBytes,
    // fastify turns Node's own request timeout off (0); a client that trickles its body would
    // otherwise hold a connection, and up to a body's worth of memory, for as long as it likes.
    requestTimeout,
    // Node applies the request timeout only when the headers' own (60 s) is not longer, and looks
    // for overdue requests every 30 s unless told otherwise.
    ...(requestTimeout > 0 ? { http: { headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeout / 2))) } } : {}),
    requestIdHeader: false,
    // Each route's schema bounds its params (a device token up to 4,096 characters, a user id up
    // to 128); the router's own limit (100 by default) refused a real FCM token (about 160) with
    // a 414 before the schema could speak. Node's 16 KB limit on the request line still holds.
    routerOptions: { maxParamLength: 16_384 },
    frameworkErrors: (error, req, reply) => void frameworkErrorHandler(error, req, reply),
    clientErrorHandler,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : deps.ids.next();
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Many HTTP clients send `Content-Type: application/json` on every request, also a DELETE or an
  // `opened` POST without a body; fastify refused those with a 400. An empty body is now no body:
  // a route that takes none runs, and one that needs one answers 422 naming it.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  const parseJson = (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => (body.length === 0 ? done(null, undefined) : json(req, body as string, done));
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJson);
  // PATCH /v1/users/:userId/preferences is a JSON merge patch (RFC 7396), whose media type this is.
  app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, parseJson);
  // fastify also parses text/plain, which handed a JSON route a string: a 422 "expected object"
  // for what is a wrong media type. The JSON API takes JSON only (webhooks and the unsubscribe
  // form have their own parsers).
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(createErrorHandler());
  const routes: { method: string; url: string; hidden: boolean }[] = [];
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allowed = allowedMethods(routes, path);
    // A route of this very method answered "not found" itself (a file under /docs/static/*): 404, not 405.
    if (allowed.length === 0 || allowed.includes(req.method) || (req.method === 'HEAD' && allowed.includes('GET'))) return sendProblem(reply, req, new Problem(404, 'route_not_found', 'Not found', `no route ${req.method} ${maskedUrl(path)}`));
    void reply.header('allow', allowed.join(', '));
    return sendProblem(reply, req, new Problem(405, 'method_not_allowed', 'Method not allowed', `${maskedUrl(path)} takes ${allowed.join(', ')}, not ${req.method}`, { allow: allowed }));
  });
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, hidden: Boolean(r.schema?.hide) });
  });
  app.addHook('onRequest', async (req, reply) => {
    void reply.header('x-request-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.http(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('onClose', async () => {
    await deps.apiKeys.close();
  });

  authenticate(app, deps);
  ownNotificationsOnly(app, deps);
  dailyQuota(app, new SendQuota(deps.limits.dailySendQuota ?? DEFAULT_DAILY_QUOTA, deps.readModels, deps.now), metrics);
  // Keyed by app after authentication (preParsing runs after onRequest), so one noisy app cannot
  // starve the others; probes, metrics and docs are not limited. The counter is per process.
  // Provider webhooks are not limited either: they carry no app key, so they shared one bucket per
  // source address, which behind a load balancer is every provider's at once, and Twilio does not
  // resend a callback answered 429 (a STOP or a receipt lost). Their signature is checked before
  // anything is written, so what a flood of forged ones costs is that check. Matched by route, not
  // by the raw URL, so no other route can pass for one.
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: deps.limits.ratePerMinute ?? DEFAULT_RATE_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (req) => req.appId || req.ip,
    allowList: (req) => !req.url.startsWith('/v1/') || (req.routeOptions.url ?? '').startsWith('/v1/webhooks/'),
    onExceeded: () => metrics.rejected('rate_limited'),
    errorResponseBuilder: (_req, ctx) => new Problem(429, 'rate_limited', 'Too many requests', `at most ${ctx.max} requests per minute per app; retry in ${ctx.after}`),
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Herald', version: '0.1.0', description: 'Event-sourced notifications: push (APNs, FCM), SMS (Twilio) and email (SendGrid). See docs/security.md for keys and scopes.' },
      components: {
        securitySchemes: {
          appKey: { type: 'http', scheme: 'bearer', description: 'An app token (<appKey>.<secret>) from POST /v1/apps, or the bootstrap key' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'HERALD_METRICS_TOKEN, when set' },
        },
      },
    },
    transform: jsonSchemaTransform,
    // Routes that need a key say so, with the scope (x-required-scope); the rest are open.
    transformObject: (document) => {
      if (!('openapiObject' in document)) return document.swaggerObject;
      requireKeyOnV1(document.openapiObject as OpenApiDoc);
      return document.openapiObject;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(operationsRoutes(deps, metrics));
  await app.register(appsRoutes(deps));
  await app.register(appCallbacksRoutes(deps));
  await app.register(usersRoutes(deps));
  await app.register(notificationsRoutes(deps));
  await app.register(deadLettersRoutes(deps));
  await app.register(preferencesRoutes(deps));
  await app.register(categoriesRoutes(deps));
  await app.register(analyticsRoutes(deps));
  await app.register(templatesRoutes(deps));
  if (deps.tracking) {
    await app.register(trackingRoutes(deps, deps.tracking));
    await app.register(unsubscribeRoutes(deps, deps.tracking));
    await app.register(webhookRoutes(deps, deps.tracking));
  }
  return app;
}

type OpenApiDoc = { paths?: Record<string, Record<string, { security?: unknown } & Record<string, unknown>>> } & Record<string, unknown>;

/** Marks each operation that needs an app key, from the same table the auth hook uses. */
function requireKeyOnV1(doc: OpenApiDoc): void {
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    const pattern = path.replace(/\{([^}]+)\}/g, ':$1');
    for (const [method, operation] of Object.entries(operations)) {
      const scope = requiredScope(method.toUpperCase(), pattern);
      if (!scope) continue;
      operation.security ??= [{ appKey: [] }];
      operation['x-required-scope'] = scope;
    }
  }
}
