import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { ingestProviderFacts } from '../../tracking/ingest.ts';
import { handleInboundReply } from '../../tracking/inboundReply.ts';
import { LateMatcher } from '../../tracking/lateMatch.ts';
import { fromSendgrid, fromTwilioStatus, inboundKeyword, sendgridBatch, type ProviderFact } from '../../tracking/providerFacts.ts';
import { twilioSignedUrl, type TrackingConfig } from '../../tracking/config.ts';
import type { AppDeps } from '../deps.ts';
import { Problem } from '../problem.ts';
import { SENDGRID_SIGNATURE_HEADER, SENDGRID_TIMESTAMP_HEADER, verifySendgridSignature } from './sendgridSignature.ts';
import { TWILIO_SIGNATURE_HEADER, verifyTwilioSignature } from './twilioSignature.ts';
import { trackingContext } from '../trackingContext.ts';

const ingestResult = z.object({ received: z.number(), recorded: z.number(), duplicates: z.number(), unmatched: z.number(), optedOut: z.number(), ignored: z.number() });
/** SendGrid posts batches of up to about 768 KB; leave room above the API's default body limit. */
const WEBHOOK_BODY_LIMIT = 4 * 1024 * 1024;
const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';
/** Twilio's SM…/MM… ids, loosely: it names a stream. */
const MESSAGE_SID = /^[A-Za-z0-9_-]{1,64}$/;

const header = (req: FastifyRequest, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};
const notConfigured = (what: string, variable: string) =>
  new Problem(503, 'webhook_not_configured', 'Webhook not configured', `${what} cannot be verified: set ${variable} (see docs/tracking.md)`);
const invalidSignature = () => new Problem(403, 'webhook_signature_invalid', 'Forbidden', 'the webhook signature does not verify');

/**
 * Provider webhooks. Public (no API key): each request is verified by the provider's signature
 * instead, over the exact bytes received, so this plugin keeps bodies raw (a Buffer) with a
 * content-type parser scoped to it, and parses them itself after verification.
 */
export function webhookRoutes(deps: AppDeps, tracking: TrackingConfig): FastifyPluginAsyncZod {
  const ctx = trackingContext(deps);
  const summary = (result: Awaited<ReturnType<typeof ingestProviderFacts>>, ignored: number) => ({ ...result, ignored });

  /** Verifies Twilio's signature over the URL Twilio called (config.ts: twilioSignedUrl) and returns the form fields. */
  const twilioParams = (req: FastifyRequest, route: 'status' | 'inbound'): URLSearchParams => {
    if (!tracking.twilioAuthToken) throw notConfigured('Twilio callbacks', 'HERALD_TWILIO_WEBHOOK_AUTH_TOKEN (or HERALD_TWILIO_AUTH_TOKEN)');
    const params = new URLSearchParams((req.body as Buffer | undefined)?.toString('utf8') ?? '');
    const signature = header(req, TWILIO_SIGNATURE_HEADER);
    if (!signature) throw new Problem(401, 'webhook_unsigned', 'Unauthorized', `send ${TWILIO_SIGNATURE_HEADER}`);
    if (!verifyTwilioSignature(tracking.twilioAuthToken, twilioSignedUrl(tracking, route, req.url), params, signature)) throw invalidSignature();
    return params;
  };

  return async (app) => {
    // Events that beat their send to Herald are tried again shortly (tracking/lateMatch.ts).
    const late = new LateMatcher(ctx, app.log.child({ component: 'tracking' }));
    app.addHook('onClose', async () => late.close());
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_req, body, done) => done(null, body));

    app.post('/v1/webhooks/sendgrid', {
      bodyLimit: WEBHOOK_BODY_LIMIT,
      schema: { tags: ['webhooks'], summary: 'SendGrid signed Event Webhook (delivered, open, click, bounce, dropped, spamreport, unsubscribe)', security: [], response: { 200: ingestResult } },
    }, async (req) => {
      if (!tracking.sendgridPublicKey) throw notConfigured('SendGrid events', 'HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY');
      const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const check = verifySendgridSignature(tracking.sendgridPublicKey, { signature: header(req, SENDGRID_SIGNATURE_HEADER), timestamp: header(req, SENDGRID_TIMESTAMP_HEADER), rawBody }, deps.now().getTime(), tracking.webhookMaxAgeSeconds);
      if (!check.ok && check.reason === 'unsigned') throw new Problem(401, 'webhook_unsigned', 'Unauthorized', `send ${SENDGRID_SIGNATURE_HEADER} and ${SENDGRID_TIMESTAMP_HEADER}; enable the signed Event Webhook in SendGrid`);
      if (!check.ok && check.reason === 'stale') throw new Problem(403, 'webhook_timestamp_stale', 'Forbidden', `the signed timestamp is more than ${tracking.webhookMaxAgeSeconds} s away from now: a replay, or a clock out of sync`);
      if (!check.ok) throw invalidSignature();
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new Problem(400, 'invalid_json', 'Bad request', 'the body is not JSON');
      }
      const batch = sendgridBatch.safeParse(parsed);
      if (!batch.success) throw new Problem(422, 'validation_failed', 'The request is not valid', 'expected a JSON array of SendGrid events');
      const facts = batch.data.map(fromSendgrid).filter((f): f is ProviderFact => f !== null);
      const result = await ingestProviderFacts(ctx, facts, late);
      req.log.info({ provider: 'sendgrid', ...result }, 'provider events received');
      return summary(result, batch.data.length - facts.length);
    });

    app.post('/v1/webhooks/twilio/status', {
      schema: { tags: ['webhooks'], summary: 'Twilio message status callback (delivered, undelivered, failed), X-Twilio-Signature verified', security: [], response: { 200: ingestResult } },
    }, async (req) => {
      const fact = fromTwilioStatus(twilioParams(req, 'status'));
      const result = await ingestProviderFacts(ctx, fact ? [fact] : [], late);
      return summary({ ...result, received: 1 }, fact ? 0 : 1);
    });

    app.post('/v1/webhooks/twilio/inbound', {
      schema: { tags: ['webhooks'], summary: 'Inbound SMS: STOP and the other opt-out keywords opt the sender out of SMS; START, YES or UNSTOP opt it back in', security: [] },
    }, async (req, reply) => {
      const params = twilioParams(req, 'inbound');
      const from = params.get('From');
      const keyword = from ? inboundKeyword(params) : null;
      if (from && keyword) {
        // Twilio sends one on every inbound message. Without it a repeat cannot be told apart: a
        // STOP is still acted on (never lose an opt-out; twice is once), a START is refused.
        const messageId = params.get('MessageSid') ?? undefined;
        if (messageId !== undefined && !MESSAGE_SID.test(messageId)) throw new Problem(422, 'validation_failed', 'The request is not valid', 'MessageSid must be letters, digits, - or _ (at most 64), as Twilio sends it');
        if (messageId === undefined && keyword === 'start') throw new Problem(422, 'validation_failed', 'The request is not valid', 'a START needs its MessageSid, as Twilio sends it: without it a replayed START could not be told from a new one');
        const { repeated, changed } = await handleInboundReply(ctx, messageId === undefined ? { provider: 'twilio', from, keyword: 'stop' } : { provider: 'twilio', messageId, from, keyword });
        const word = keyword === 'stop' ? 'STOP' : 'START';
        req.log.info({ provider: 'twilio', ...(messageId ? { messageSid: messageId } : {}), [keyword === 'stop' ? 'optedOut' : 'optedIn']: changed, repeated }, repeated ? `${word} reply seen before: ignored` : `${word} reply received`);
      }
      // An empty TwiML answer: Twilio itself sends the carrier-mandated STOP and START confirmations.
      return reply.type('text/xml').send(EMPTY_TWIML);
    });
  };
}
