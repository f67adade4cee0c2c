/**
 * Signatures of the status callbacks Herald POSTs to apps, in Stripe's style:
 * `Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, one `v1` per secret
 * in use (two for a day after a rotation). The secret of an app is derived from the server's
 * secret (the tracking secret, tracking/config.ts), the app id and a version, so no secret is
 * stored: the event log holds only the version, and rotating is a new version.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'herald-signature';
/** How old a signed timestamp a receiver should accept (our docs' advice; Herald signs each attempt afresh). */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function callbackSecret(serverSecret: Buffer, appId: string, version: number): string {
  return `whsec_${createHmac('sha256', serverSecret).update(`herald-callback-secret-v1|${appId}|${version}`).digest('base64url')}`;
}

const mac = (secret: string, timestamp: number, body: string) => createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');

export function signCallback(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${mac(s, timestamp, body)}`)].join(',');
}

/** What a receiver does (docs/callbacks.md shows the same in a few lines): true when one v1 matches and t is recent. */
export function verifyCallback(secret: string, header: string, body: string, nowSeconds: number, toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): boolean {
  const parts = header.split(',').map((p) => p.split('='));
  const timestamp = Number(parts.find(([k]) => k === 't')?.[1]);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(mac(secret, timestamp, body), 'hex');
  return parts.some(([k, v]) => k === 'v1' && v !== undefined && /^[0-9a-f]{64}$/.test(v) && timingSafeEqual(Buffer.from(v, 'hex'), expected));
}
