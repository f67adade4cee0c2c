/**
 * Tracking settings from the environment: the link-signing secret, the public URL that tracked
 * links point at, and the keys that verify provider webhooks. Read here, like each provider's own
 * config, so the rest of the code gets values and never reads the environment.
 */
import { randomBytes, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../configError.ts';
import type { EmailTrackingOptions } from './emailTracking.ts';
import type { ListUnsubscribeOptions } from './listUnsubscribe.ts';

export interface TrackingConfig {
  /** HMAC key of pixel and link tokens. */
  secret: Buffer;
  /** Base of tracked links and of the Twilio URL that signatures cover, e.g. https://herald.example.com. */
  publicUrl: string;
  /** Whether HERALD_PUBLIC_URL was set; unset, publicUrl is where this process listens. */
  publicUrlSet: boolean;
  /** Off: email HTML goes out as given (opens and clicks then come only from webhooks or the app). */
  emailTracking: boolean;
  /** Off: email goes out without List-Unsubscribe headers (listUnsubscribe.ts), for apps that manage unsubscribes themselves. */
  listUnsubscribe: boolean;
  /** SendGrid's signed Event Webhook verification key; absent: that webhook answers 503. */
  sendgridPublicKey?: KeyObject;
  /** Twilio signs callbacks with the account's auth token; absent: those webhooks answer 503. */
  twilioAuthToken?: string;
  /**
   * HERALD_TWILIO_STATUS_CALLBACK_URL as Herald gives it to Twilio with every message: Twilio signs
   * its status callbacks over this very URL (query string included), so the status route verifies
   * against it, whatever HERALD_PUBLIC_URL says.
   */
  twilioStatusCallbackUrl?: string;
  /** Signed webhook requests older (or further in the future) than this are refused as replays. */
  webhookMaxAgeSeconds: number;
}

/** The generated tracking secret's file in the data dir (backups copy it: links in inboxes are signed with it). */
export const TRACKING_SECRET_FILE = 'tracking-secret';
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const schema = z.object({
  HERALD_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'an absolute http(s) URL where recipients and providers reach Herald, e.g. https://herald.example.com' }).optional(),
  HERALD_TRACKING_SECRET: z.string().min(32, 'use at least 32 random characters, e.g. `openssl rand -base64 48`').optional(),
  HERALD_EMAIL_TRACKING: bool.default(true),
  HERALD_LIST_UNSUBSCRIBE: bool.default(true),
  HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(40).optional(),
  HERALD_TWILIO_WEBHOOK_AUTH_TOKEN: z.string().min(16).optional(),
  HERALD_TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  // Trimmed, and blank is unset, as the Twilio adapter reads it: the signature covers the exact string sent.
  HERALD_TWILIO_STATUS_CALLBACK_URL: z.preprocess((v) => (typeof v === 'string' ? v.trim() || undefined : v), z.url({ protocol: /^https?$/, error: 'an absolute http(s) URL ending in /v1/webhooks/twilio/status' }).optional()),
  HERALD_WEBHOOK_MAX_AGE_SECONDS: z.coerce.number().int().min(30).max(86_400).default(300),
});

/**
 * Without HERALD_TRACKING_SECRET a random secret is generated once and kept in the data dir:
 * links already in inboxes must keep working across restarts, and there is no other secret to
 * derive one from (API keys are stored only as digests and HERALD_API_KEY is optional). Processes
 * on one host share it through the data dir; processes on separate hosts (split roles) must be
 * given the same HERALD_TRACKING_SECRET, or links signed by a worker fail at the API.
 */
function secretFrom(configured: string | undefined, dataDir: string): Buffer {
  if (configured) return Buffer.from(configured, 'utf8');
  const file = join(dataDir, TRACKING_SECRET_FILE);
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    writeFileSync(file, secret.toString('base64url'), { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    // Another process wrote it first: use theirs.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
    throw error;
  }
}

/** SendGrid shows the key as base64 DER (SubjectPublicKeyInfo); a PEM block is accepted too. */
export function parseSendgridPublicKey(text: string): KeyObject {
  try {
    const key = text.includes('BEGIN PUBLIC KEY') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ec') throw new Error('not an EC key');
    return key;
  } catch {
    throw new ConfigError('HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY must be the "Verification Key" SendGrid shows for the signed Event Webhook (base64 DER or PEM, ECDSA P-256)');
  }
}

export function loadTrackingConfig(env: NodeJS.ProcessEnv, dataDir: string): TrackingConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid tracking configuration; fix these environment variables:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const twilioAuthToken = e.HERALD_TWILIO_WEBHOOK_AUTH_TOKEN ?? e.HERALD_TWILIO_AUTH_TOKEN;
  const twilioStatusCallbackUrl = e.HERALD_TWILIO_STATUS_CALLBACK_URL;
  return {
    secret: secretFrom(e.HERALD_TRACKING_SECRET, dataDir),
    // Unset: where this process listens, which is right for local use and wrong behind a proxy.
    publicUrl: (e.HERALD_PUBLIC_URL ?? `http://${env.HERALD_HOST ?? '127.0.0.1'}:${env.HERALD_PORT ?? '3000'}`).replace(/\/+$/, ''),
    publicUrlSet: e.HERALD_PUBLIC_URL !== undefined,
    emailTracking: e.HERALD_EMAIL_TRACKING,
    listUnsubscribe: e.HERALD_LIST_UNSUBSCRIBE,
    ...(e.HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY ? { sendgridPublicKey: parseSendgridPublicKey(e.HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY) } : {}),
    ...(twilioAuthToken ? { twilioAuthToken } : {}),
    ...(twilioStatusCallbackUrl ? { twilioStatusCallbackUrl } : {}),
    webhookMaxAgeSeconds: e.HERALD_WEBHOOK_MAX_AGE_SECONDS,
  };
}

/** What the delivery workers add to the email they send, as configured: tracking links and pixel, the unsubscribe headers. */
export function emailAdditions(tracking: TrackingConfig): { emailTracking?: EmailTrackingOptions; listUnsubscribe?: ListUnsubscribeOptions } {
  return { ...(tracking.emailTracking ? { emailTracking: tracking } : {}), ...(tracking.listUnsubscribe ? { listUnsubscribe: tracking } : {}) };
}

/**
 * Why this process must not send real email as configured, or undefined. Without HERALD_PUBLIC_URL
 * the click links, open pixel and unsubscribe link Herald writes into every email point at where
 * this process listens (http://127.0.0.1:3000), which no recipient can reach: every link in every
 * email would be broken, silently. Refused at start-up, as a provider configured in part is.
 */
export function publicUrlProblem(tracking: TrackingConfig, sendsRealEmail: boolean): string | undefined {
  if (!sendsRealEmail || tracking.publicUrlSet || (!tracking.emailTracking && !tracking.listUnsubscribe)) return undefined;
  const parts = [...(tracking.emailTracking ? ['click links', 'open pixel'] : []), ...(tracking.listUnsubscribe ? ['unsubscribe link'] : [])];
  const what = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  return `HERALD_PUBLIC_URL is not set, so the ${what} in every email sent through SendGrid would point at ${tracking.publicUrl}, which recipients cannot reach: set HERALD_PUBLIC_URL to where recipients reach Herald (e.g. https://herald.example.com), or turn them off with HERALD_EMAIL_TRACKING=false and HERALD_LIST_UNSUBSCRIBE=false`;
}

/** Where Twilio's status callbacks must arrive (the route's path, after any prefix a proxy strips). */
export const TWILIO_STATUS_PATH = '/v1/webhooks/twilio/status';

/**
 * The URL Twilio signed a callback to `requestUrl` (path and query as received) over: the status
 * callback URL Herald gives Twilio for the status route when it is set, else HERALD_PUBLIC_URL +
 * the path, which is where the inbound webhook must be configured in Twilio.
 */
export function twilioSignedUrl(tracking: TrackingConfig, route: 'status' | 'inbound', requestUrl: string): string {
  return route === 'status' && tracking.twilioStatusCallbackUrl ? tracking.twilioStatusCallbackUrl : `${tracking.publicUrl}${requestUrl}`;
}

/**
 * Why Twilio's callbacks could not be verified as configured, or undefined. Twilio does not retry
 * a 403, so a URL Herald cannot know would lose every STOP reply and delivery receipt, silently:
 * refused at start-up instead. `servesWebhooks`: this process runs the API, where they arrive.
 */
export function twilioWebhookProblem(tracking: TrackingConfig, servesWebhooks: boolean): string | undefined {
  const callback = tracking.twilioStatusCallbackUrl;
  // The path only: the URL may carry basic-auth credentials for Twilio to use.
  const callbackPath = callback ? new URL(callback).pathname : undefined;
  if (callbackPath !== undefined && !callbackPath.endsWith(TWILIO_STATUS_PATH)) {
    return `HERALD_TWILIO_STATUS_CALLBACK_URL has the path ${callbackPath}, so Twilio's delivery status callbacks would reach no route: point it at Herald's status route, e.g. https://herald.example.com${TWILIO_STATUS_PATH} (see docs/tracking.md)`;
  }
  if (!servesWebhooks || !tracking.twilioAuthToken || tracking.publicUrlSet) return undefined;
  const what = callback ? 'STOP and START replies (/v1/webhooks/twilio/inbound)' : 'STOP and START replies and delivery status callbacks (/v1/webhooks/twilio/inbound and /status)';
  return `HERALD_PUBLIC_URL is not set, so Twilio's signatures on ${what} would be checked against ${tracking.publicUrl}, not the URL Twilio calls, and every one refused with 403 (Twilio does not retry it): set HERALD_PUBLIC_URL to the origin the Twilio webhooks are configured with (e.g. https://herald.example.com; see docs/tracking.md)`;
}
