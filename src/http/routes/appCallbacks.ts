import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { clearAppCallback, loadApp, rotateCallbackSecret, setAppCallback } from '../../commands/apps.ts';
import { AppNotFoundError, AppRevokedError, CallbackNotSetError, type AppState } from '../../domain/app.ts';
import { CALLBACK_OUTCOMES, CALLBACK_URL_MAX_LENGTH, callbackUrlProblem, InvalidCallbackUrlError } from '../../domain/appCallback.ts';
import { callbackSecret } from '../../callbacks/signature.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';

const appId = z.string().regex(/^[0-9a-f-]{36}$/, 'an app id (UUID)');
const outcome = z.enum(CALLBACK_OUTCOMES);
const setBody = z.strictObject({
  url: z.string().max(CALLBACK_URL_MAX_LENGTH).superRefine((url, ctx) => {
    const problem = callbackUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).describe('absolute http(s) URL, without credentials: the Herald-Signature header authenticates Herald'),
  events: z.array(outcome).max(CALLBACK_OUTCOMES.length).default([]).describe('the outcomes to be told of; empty or absent: all of them'),
});
const callbackView = z.object({
  appId: z.string(),
  url: z.string(),
  events: z.array(outcome),
  secret: z.string().describe('HMAC-SHA256 key of the Herald-Signature header (see docs/callbacks.md); derived, never stored'),
  secretVersion: z.number(),
  previousSecret: z.object({ secret: z.string(), validUntil: z.string() }).optional().describe('after a rotation: still signs (a second v1) until validUntil'),
});

function asProblem(error: unknown): never {
  if (error instanceof AppNotFoundError) throw new Problem(404, error.code, 'App not found', error.message);
  if (error instanceof AppRevokedError) throw new Problem(409, error.code, 'App revoked', error.message);
  if (error instanceof CallbackNotSetError) throw new Problem(404, error.code, 'No callback set', error.message);
  if (error instanceof InvalidCallbackUrlError) throw new Problem(422, error.code, 'Invalid callback URL', error.message);
  throw error;
}

/**
 * An app's status callback (admin scope, as every /v1/apps route): where Herald POSTs what became
 * of the app's notifications, signed with a secret shown here. Delivery: processors/callbackProcessor.ts.
 */
export function appCallbacksRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const ctx = (req: { appId: string; id: string }) => ({ store: deps.events, now: deps.now, ids: deps.ids, metadata: { appId: req.appId, requestId: req.id } });
  const serverSecret = () => {
    if (!deps.callbackSecret) throw new Problem(503, 'callbacks_unavailable', 'Callbacks unavailable', 'this Herald has no server secret to sign callbacks with');
    return deps.callbackSecret;
  };
  const view = (id: string, state: AppState) => {
    if (!state.exists) throw new AppNotFoundError(id);
    if (!state.callback) throw new CallbackNotSetError(id);
    const secret = serverSecret();
    const previous = state.previousCallbackSecret;
    return {
      appId: id,
      url: state.callback.url,
      events: state.callback.events,
      secret: callbackSecret(secret, id, state.callbackSecretVersion),
      secretVersion: state.callbackSecretVersion,
      ...(previous && previous.validUntil > deps.now().toISOString() ? { previousSecret: { secret: callbackSecret(secret, id, previous.version), validUntil: previous.validUntil } } : {}),
    };
  };
  const refreshed = async (id: string) => {
    await deps.apiKeys.apps.refresh(id);
    return (await loadApp(deps.events, id)).state;
  };

  return async (app) => {
    app.put('/v1/apps/:appId/callback', {
      schema: { tags: ['apps'], summary: "Set the app's status callback; the response holds the secret its callbacks are signed with", params: z.object({ appId }), body: setBody, response: { 200: callbackView } },
    }, async (req) => {
      serverSecret();
      await setAppCallback(ctx(req), req.params.appId, req.body).catch(asProblem);
      req.log.info({ callbackAppId: req.params.appId, callbackHost: new URL(req.body.url).host }, 'app callback set');
      return view(req.params.appId, await refreshed(req.params.appId));
    });

    app.get('/v1/apps/:appId/callback', {
      schema: { tags: ['apps'], summary: "The app's status callback and its signing secret", params: z.object({ appId }), response: { 200: callbackView } },
    }, async (req) => {
      try {
        return view(req.params.appId, (await loadApp(deps.events, req.params.appId)).state);
      } catch (error) {
        return asProblem(error);
      }
    });

    app.post('/v1/apps/:appId/callback/rotate-secret', {
      schema: { tags: ['apps'], summary: 'A new signing secret; the previous one still signs for a day (a second v1 in Herald-Signature)', params: z.object({ appId }), response: { 200: callbackView } },
    }, async (req) => {
      serverSecret();
      await rotateCallbackSecret(ctx(req), req.params.appId).catch(asProblem);
      return view(req.params.appId, await refreshed(req.params.appId));
    });

    app.delete('/v1/apps/:appId/callback', {
      schema: { tags: ['apps'], summary: 'Stop status callbacks (callbacks already queued may still arrive)', params: z.object({ appId }), response: { 204: z.null() } },
    }, async (req, reply) => {
      await clearAppCallback(ctx(req), req.params.appId).catch(asProblem);
      await deps.apiKeys.apps.refresh(req.params.appId);
      return reply.status(204).send(null);
    });
  };
}
