/**
 * SendGrid's signed Event Webhook: ECDSA P-256 over SHA-256 of (timestamp header + raw body),
 * base64 DER signature in X-Twilio-Email-Event-Webhook-Signature. The timestamp is signed too, so
 * a captured request replayed later fails the age check even though its signature is genuine.
 */
import { verify, type KeyObject } from 'node:crypto';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export type SignatureCheck = { ok: true } | { ok: false; reason: 'unsigned' | 'stale' | 'invalid' };

export interface SendgridSignedRequest {
  signature: string | undefined;
  /** Unix seconds, as SendGrid sends it. */
  timestamp: string | undefined;
  rawBody: Buffer;
}

export function verifySendgridSignature(publicKey: KeyObject, request: SendgridSignedRequest, nowMs: number, maxAgeSeconds: number): SignatureCheck {
  const { signature, timestamp, rawBody } = request;
  if (!signature || !timestamp) return { ok: false, reason: 'unsigned' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'invalid' };
  // Checked before the signature so a replay is named as one; both must pass anyway.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > maxAgeSeconds) return { ok: false, reason: 'stale' };
  try {
    const payload = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
    return verify('sha256', payload, publicKey, Buffer.from(signature, 'base64')) ? { ok: true } : { ok: false, reason: 'invalid' };
  } catch {
    // A malformed DER signature makes verify throw rather than return false.
    return { ok: false, reason: 'invalid' };
  }
}
