import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createApp, revokeApp, rotateAppKey } from '../../commands/apps.ts';
import { AppExistsError, AppNotFoundError, AppRevokedError, SCOPES, type AppState } from '../../domain/app.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';

const appId = z.string().regex(/^[0-9a-f-]{36}$/, 'an app id (UUID)');
const scope = z.enum(SCOPES);
const createBody = z.strictObject({
  name: z.string().min(1).max(128),
  scopes: z.array(scope).min(1).max(3).default(['send', 'read']).describe('admin implies send and read'),
});
const issuedKey = z.object({
  appKey: z.string().describe('public key id, safe to log'),
  secret: z.string().describe('shown once; Herald keeps only its SHA-256'),
  token: z.string().describe('send as Authorization: Bearer <token>'),
});
const appView = z.object({
  appId: z.string(),
  name: z.string(),
  scopes: z.array(scope),
  revoked: z.boolean(),
  createdAt: z.string().optional(),
  keys: z.array(z.object({ appKey: z.string(), validUntil: z.string().optional() })),
  callback: z.object({ url: z.string(), events: z.array(z.string()) }).optional().describe('its status callback (the secret: GET /v1/apps/:appId/callback)'),
});

const DEFAULT_GRACE_SECONDS = 24 * 3600;

const view = (id: string, state: AppState) => ({
  appId: id,
  name: state.name,
  scopes: state.scopes,
  revoked: state.revoked,
  ...(state.createdAt ? { createdAt: state.createdAt } : {}),
  keys: state.keys.map((k) => ({ appKey: k.keyId, ...(k.validUntil ? { validUntil: k.validUntil } : {}) })),
  ...(state.callback ? { callback: { url: state.callback.url, events: state.callback.events } } : {}),
});

function asProblem(error: unknown): never {
  if (error instanceof AppNotFoundError) throw new Problem(404, error.code, 'App not found', error.message);
  if (error instanceof AppRevokedError) throw new Problem(409, error.code, 'App revoked', error.message);
  throw error;
}

/** Client applications and their keys (admin scope, see scopes.ts). Secrets appear in one response only. */
export function appsRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const apps = deps.apiKeys.apps;
  const ctx = (req: { appId: string; id: string }) => ({ store: deps.events, now: deps.now, ids: deps.ids, metadata: { appId: req.appId, requestId: req.id } });
  const defaultGrace = deps.security?.keyGraceSeconds ?? DEFAULT_GRACE_SECONDS;

  return async (app) => {
    app.post('/v1/apps', {
      schema: {
        tags: ['apps'],
        summary: 'Create a client application; the response holds its secret, shown once',
        description: 'With an Idempotency-Key header, the same request sent again creates nothing and answers 409 app_exists with the appId (the secret cannot be shown twice: rotate the key if the first response was lost).',
        headers: z.looseObject({ 'idempotency-key': z.string().min(1).max(255).optional() }),
        body: createBody,
        response: { 201: appView.extend(issuedKey.shape) },
      },
    }, async (req, reply) => {
      const key = req.headers['idempotency-key'];
      const created = await createApp(ctx(req), req.body, key ? { scope: req.appId, key } : undefined).catch(async (error: unknown) => {
        if (!(error instanceof AppExistsError)) throw error;
        await apps.refresh(error.appId);
        const existing = apps.get(error.appId);
        const same = existing && existing.name === req.body.name && [...new Set(req.body.scopes)].sort().join() === existing.scopes.join();
        if (!same) throw new Problem(422, 'idempotency_key_reused', 'Idempotency key reused', `idempotency key ${key} was already used to create a different app; use a new key for a new app`);
        throw new Problem(409, 'app_exists', 'App already created', `this request already created app ${error.appId}; its secret was shown once, in that response. If it was lost, issue a new one with POST /v1/apps/${error.appId}/keys/rotate`, { appId: error.appId });
      });
      await apps.refresh(created.appId);
      req.log.info({ createdAppId: created.appId, createdAppKey: created.key.appKey }, 'app created');
      return reply.status(201).send({ ...view(created.appId, apps.get(created.appId)!), ...created.key });
    });

    app.get('/v1/apps', {
      schema: { tags: ['apps'], summary: 'Every client application (never a secret)', response: { 200: z.object({ apps: z.array(appView) }) } },
    }, async () => ({ apps: apps.list().map((a) => view(a.appId, a.state)) }));

    app.get('/v1/apps/:appId', {
      schema: { tags: ['apps'], summary: 'One client application', params: z.object({ appId }), response: { 200: appView } },
    }, async (req) => {
      const state = apps.get(req.params.appId);
      if (!state) throw new Problem(404, 'app_not_found', 'App not found', `no app ${req.params.appId}`);
      return view(req.params.appId, state);
    });

    app.post('/v1/apps/:appId/keys/rotate', {
      schema: {
        tags: ['apps'],
        summary: 'Issue a new key; the previous one keeps working for the grace period',
        params: z.object({ appId }),
        body: z.strictObject({ graceSeconds: z.number().int().min(0).max(30 * 24 * 3600).optional() }).nullish(),
        response: { 200: issuedKey.extend({ appId: z.string(), previous: z.object({ appKey: z.string(), validUntil: z.string() }).optional() }) },
      },
    }, async (req) => {
      const rotated = await rotateAppKey(ctx(req), req.params.appId, req.body?.graceSeconds ?? defaultGrace).catch(asProblem);
      await apps.refresh(req.params.appId);
      req.log.info({ rotatedAppId: req.params.appId, issuedAppKey: rotated.key.appKey }, 'app key rotated');
      return { appId: req.params.appId, ...rotated.key, ...(rotated.previous ? { previous: rotated.previous } : {}) };
    });

    const revoke = async (req: { appId: string; id: string; params: { appId: string } }) => {
      await revokeApp(ctx(req), req.params.appId).catch(asProblem);
      // Applied before the response: from here on this process refuses every key of the app.
      await apps.refresh(req.params.appId);
    };

    app.post('/v1/apps/:appId/revoke', {
      schema: { tags: ['apps'], summary: 'Revoke an app: all its keys stop working at once', params: z.object({ appId }), response: { 200: appView } },
    }, async (req) => {
      await revoke(req);
      return view(req.params.appId, apps.get(req.params.appId)!);
    });

    app.delete('/v1/apps/:appId', {
      schema: { tags: ['apps'], summary: 'Revoke an app (same as POST …/revoke)', params: z.object({ appId }), response: { 204: z.null() } },
    }, async (req, reply) => {
      await revoke(req);
      return reply.status(204).send(null);
    });
  };
}
