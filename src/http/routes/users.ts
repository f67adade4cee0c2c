import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { handleUserCommand, loadUser, registerDevice } from '../../commands/users.ts';
import type { UserState } from '../../domain/user.ts';
import { OptOutNotClearableError } from '../../domain/contactOptOut.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';
import { userId } from '../schemas.ts';
import { ambiguousPhone, deviceBody, profileBody, regionOf, toE164, userResponse } from '../userSchemas.ts';
import { maskIfContact } from '../../mask.ts';

const view = (id: string, state: UserState) => ({ userId: id, ...state.profile, devices: state.devices, optedOut: state.optedOut });

/** Contacts: profile (email, phone, locale, time zone) and devices, on the user's own stream. */
export function usersRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const ctx = (appId: string) => ({ store: deps.events, now: deps.now, metadata: { appId } });
  return async (app) => {
    app.put('/v1/users/:userId', {
      schema: { tags: ['users'], summary: 'Create or update a user\'s contact details', params: z.object({ userId }), body: profileBody, response: { 200: userResponse } },
    }, async (req) => {
      const profile = { ...req.body };
      if (profile.phone) {
        // A number without a country code is read in the region of the user's locale (en-GB → GB).
        const locale = profile.locale ?? (await loadUser(deps.events, req.params.userId)).profile.locale;
        const e164 = toE164(profile.phone, locale);
        const code = ambiguousPhone(profile.phone, locale);
        if (code) {
          const message = `starts with the country code ${code} but has no +, and reads as two different valid numbers: send it in international format (+${code}…) or as dialled within the country`;
          throw new Problem(422, 'validation_failed', 'The request is not valid', `body/phone: ${message}`, { errors: [{ in: 'body', path: '/phone', message }] });
        }
        if (!e164) {
          const message = `not a valid phone number${regionOf(locale) ? ` for region ${regionOf(locale)}` : ''}: use international format, e.g. +14155550123`;
          throw new Problem(422, 'validation_failed', 'The request is not valid', `body/phone: ${message}`, { errors: [{ in: 'body', path: '/phone', message }] });
        }
        profile.phone = e164;
      }
      const { state } = await handleUserCommand(ctx(req.appId), { type: 'UpdateProfile', data: { userId: req.params.userId, ...profile } });
      return view(req.params.userId, state);
    });

    app.get('/v1/users/:userId', {
      schema: { tags: ['users'], summary: 'A user\'s contact details and devices', params: z.object({ userId }), response: { 200: userResponse } },
    }, async (req) => {
      const state = await loadUser(deps.events, req.params.userId);
      if (!state.exists) throw new Problem(404, 'user_not_found', 'User not found', `no user ${maskIfContact(req.params.userId)}; create it with PUT /v1/users/:userId`);
      return view(req.params.userId, state);
    });

    app.post('/v1/users/:userId/devices', {
      schema: { tags: ['users'], summary: 'Register a push device (a user has many: at most HERALD_MAX_DEVICES_PER_USER, 100 by default; one more removes the invalidated, then the longest registered)', params: z.object({ userId }), body: deviceBody, response: { 201: userResponse } },
    }, async (req, reply) => {
      const { state } = await registerDevice(ctx(req.appId), { userId: req.params.userId, ...req.body }, deps.limits.maxDevicesPerUser);
      return reply.status(201).send(view(req.params.userId, state));
    });

    app.delete('/v1/users/:userId/opt-outs/:channel', {
      schema: {
        tags: ['users'],
        summary: 'Clear the opt-out of the user\'s current email address or phone number (admin): after hard bounces once the mailbox is fixed, or an address a provider misjudged; never one the recipient asked for (STOP, a spam report, an unsubscribe: 409)',
        params: z.object({ userId, channel: z.enum(['email', 'sms']) }),
        response: { 200: userResponse },
      },
    }, async (req) => {
      const { channel } = req.params;
      const user = await loadUser(deps.events, req.params.userId);
      if (!user.exists) throw new Problem(404, 'user_not_found', 'User not found', `no user ${maskIfContact(req.params.userId)}`);
      const address = channel === 'email' ? user.profile.email : user.profile.phone;
      if (!address) return view(req.params.userId, user);
      try {
        const { state } = await handleUserCommand(ctx(req.appId), { type: 'OptInContact', data: { userId: req.params.userId, channel, address, reason: 'cleared_by_operator', source: 'api' } });
        return view(req.params.userId, state);
      } catch (error) {
        if (!(error instanceof OptOutNotClearableError)) throw error;
        throw new Problem(409, 'opt_out_by_recipient', 'Opted out by the recipient', `the ${channel === 'sms' ? 'number' : 'address'} was opted out by its owner (${error.reason}); only they can undo it${channel === 'sms' ? ' by texting START' : ''}, or the user can give another ${channel === 'sms' ? 'number' : 'address'}`);
      }
    });

    app.delete('/v1/users/:userId/devices/:token', {
      schema: { tags: ['users'], summary: 'Remove a device (logout)', params: z.object({ userId, token: z.string().min(1).max(4096) }), response: { 204: z.null() } },
    }, async (req, reply) => {
      await handleUserCommand(ctx(req.appId), { type: 'RemoveDevice', data: { userId: req.params.userId, token: req.params.token } });
      return reply.status(204).send(null);
    });
  };
}
