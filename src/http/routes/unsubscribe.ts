/**
 * The one-click unsubscribe link of email (List-Unsubscribe, src/tracking/listUnsubscribe.ts).
 * Public like the other /t/ links: the recipient's mail client calls it with no key, and the
 * signed token is the only credential.
 *
 * POST unsubscribes (RFC 8058): mail clients send it when the recipient presses their
 * "Unsubscribe" button, as a form whose body is `List-Unsubscribe=One-Click`; the body is not
 * needed, so any is taken. GET only shows a page with a button that POSTs: link scanners and
 * mail-security gateways open every link of a message, and a GET that unsubscribed would
 * unsubscribe recipients who never asked to.
 */
import { z } from 'zod';
import Handlebars from 'handlebars';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TrackingConfig } from '../../tracking/config.ts';
import { NotificationNotFoundError } from '../../domain/notification.ts';
import { categoryOf, unsubscribeFromCategory } from '../../tracking/unsubscribe.ts';
import type { AppDeps } from '../deps.ts';
import { linkTokenOf } from '../linkTokens.ts';
import { Problem } from '../problem.ts';
import { trackingContext } from '../trackingContext.ts';

/** A form post of `List-Unsubscribe=One-Click` is 26 bytes; multipart adds a boundary or two. */
const FORM_BODY_LIMIT = 4096;

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${title}</title></head>` +
  `<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5"><h1>${title}</h1>${body}</body></html>`;

const named = (category: string) => `&ldquo;${Handlebars.Utils.escapeExpression(category)}&rdquo;`;

export function unsubscribeRoutes(deps: AppDeps, tracking: TrackingConfig): FastifyPluginAsyncZod {
  const ctx = trackingContext(deps);
  /** A link whose notification is gone is as good as a forged one. */
  const notFound = (error: unknown): never => {
    if (error instanceof NotificationNotFoundError) throw new Problem(404, 'tracking_link_not_found', 'Not found', 'this unsubscribe link is not valid');
    throw error;
  };
  const params = z.object({ '*': z.string().max(8192) });
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT }, (_req, body, done) => done(null, body));

    app.get('/t/u/*', {
      schema: { tags: ['tracking'], summary: 'Unsubscribe page of an email (List-Unsubscribe): a button that POSTs; the GET itself changes nothing', params },
    }, async (req, reply) => {
      const token = linkTokenOf(tracking.secret, req.params['*'], 'unsubscribe');
      const { category } = await categoryOf(ctx, token.notificationId).catch(notFound);
      const form = '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit" style="font-size:1rem;padding:.5rem 1rem">Unsubscribe</button></form>';
      return reply.header('cache-control', 'no-store, private').type('text/html; charset=utf-8').send(page('Unsubscribe', `<p>Stop receiving ${named(category)} emails?</p>${form}`));
    });

    app.post('/t/u/*', {
      schema: { tags: ['tracking'], summary: 'One-click unsubscribe (RFC 8058): opts the recipient out of this email\'s category by email; records NotificationUnsubscribed', params },
    }, async (req, reply) => {
      const token = linkTokenOf(tracking.secret, req.params['*'], 'unsubscribe');
      const category = await unsubscribeFromCategory(ctx, token.notificationId).catch(notFound);
      req.log.info({ notificationId: token.notificationId, category }, 'unsubscribed by the email\'s one-click link');
      return reply.header('cache-control', 'no-store, private').type('text/html; charset=utf-8').send(page('Unsubscribed', `<p>You will no longer receive ${named(category)} emails.</p>`));
    });
  };
}
