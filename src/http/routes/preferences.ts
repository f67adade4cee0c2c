import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { handleUserCommand, loadUser } from '../../commands/users.ts';
import type { UserCommand, UserState } from '../../domain/user.ts';
import { TooManyCategoryChoicesError } from '../../domain/preferences.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';
import { categoryName, userId } from '../schemas.ts';
import { maskIfContact } from '../../mask.ts';

const category = categoryName;
const flags = z.strictObject({ push: z.boolean().optional(), sms: z.boolean().optional(), email: z.boolean().optional() });
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time HH:MM, e.g. 22:00');
/**
 * A quiet time from `start` to `end` (it may cross midnight). Equal times would be a quiet time of
 * no length, which was taken silently while the user most likely meant "all day" (or a typo):
 * neither is what Herald would do, so it is refused with how to say each.
 */
const quietHours = z.strictObject({ start: hhmm, end: hhmm }).refine((q) => q.start !== q.end, {
  path: ['end'],
  message: 'end equals start, a quiet time of no length; send null for no quiet hours, or opt the user out of a channel to stop it all day',
});

export const preferencesSchema = z.strictObject({
  channels: flags.default({}),
  categories: z.record(category, z.boolean()).default({}),
  categoryChannels: z.record(category, flags).default({}),
  marketing: z.boolean().default(true),
  quietHours: quietHours.nullable().default(null),
});

const response = preferencesSchema.extend({ userId: z.string(), timezone: z.string().nullable() });

const patchFlags = z.strictObject({ push: z.boolean().nullable().optional(), sms: z.boolean().nullable().optional(), email: z.boolean().nullable().optional() });
/** JSON merge patch (RFC 7396) of the preferences: what it names is set, null clears a choice (back to allowed). */
export const preferencesPatchSchema = z.strictObject({
  channels: patchFlags.optional(),
  categories: z.record(category, z.boolean().nullable()).optional(),
  categoryChannels: z.record(category, patchFlags.nullable()).optional(),
  marketing: z.boolean().optional(),
  quietHours: quietHours.nullable().optional(),
});

/** A user's choices: opt-outs per channel, category and (category, channel), marketing, quiet hours. */
export function preferencesRoutes(deps: AppDeps): FastifyPluginAsyncZod {
  const shown = (userId: string, state: UserState) => ({ userId, timezone: state.profile.timezone, ...state.preferences });
  const decide = async (appId: string, command: Extract<UserCommand, { type: 'SetPreferences' | 'PatchPreferences' }>) => {
    try {
      return shown(command.data.userId, (await handleUserCommand({ store: deps.events, now: deps.now, metadata: { appId } }, command)).state);
    } catch (error) {
      if (error instanceof TooManyCategoryChoicesError) throw new Problem(422, error.code, 'Too many category choices', error.message, { errors: [{ in: 'body', path: `/${error.field}`, message: error.message }] });
      throw error;
    }
  };
  return async (app) => {
    app.get('/v1/users/:userId/preferences', {
      schema: { tags: ['users'], summary: 'A user\'s notification preferences', params: z.object({ userId }), response: { 200: response } },
    }, async (req) => {
      const state = await loadUser(deps.events, req.params.userId);
      if (!state.exists) throw new Problem(404, 'user_not_found', 'User not found', `no user ${maskIfContact(req.params.userId)}; create it with PUT /v1/users/:userId`);
      return shown(req.params.userId, state);
    });

    app.put('/v1/users/:userId/preferences', {
      schema: {
        tags: ['users'],
        summary: 'Replace a user\'s preferences (quiet hours apply in the user\'s time zone, UTC when none is set)',
        params: z.object({ userId }),
        body: preferencesSchema,
        response: { 200: response },
      },
    }, async (req) => {
      return decide(req.appId, { type: 'SetPreferences', data: { userId: req.params.userId, preferences: req.body } });
    });

    app.patch('/v1/users/:userId/preferences', {
      schema: {
        tags: ['users'],
        summary: 'Change some of a user\'s preferences (JSON merge patch: null clears a choice); two changes at once both apply',
        params: z.object({ userId }),
        body: preferencesPatchSchema,
        response: { 200: response },
      },
    }, async (req) => {
      // Decided on the stream's current preferences (and again on a conflict), so a settings page
      // that flips one switch never undoes another client's change, as a read-then-PUT can.
      return decide(req.appId, { type: 'PatchPreferences', data: { userId: req.params.userId, patch: req.body } });
    });
  };
}
