/**
 * The one table from firebase-admin error codes to delivery results. firebase-admin turns every
 * FCM v1 response (and transport failure) into an error that carries only `code` and `message`,
 * so the code is all we can map on. Unknown codes are treated as transient: a wrong "failed" costs
 * a retry, a wrong "rejected" would drop a valid token for good.
 */
import type { DeliveryResult, RejectReason } from '../../../ports/deliveryProvider.ts';

export interface FcmErrorLike {
  code?: string;
  message?: string;
}

/**
 * FCM does not expose Retry-After through the SDK; its documentation asks senders that hit the
 * quota to wait at least a minute before retrying.
 */
export const FCM_QUOTA_RETRY_AFTER_MS = 60_000;

type Mapping = (err: FcmErrorLike) => DeliveryResult;

const rejected =
  (reason: RejectReason): Mapping =>
  (err) => ({ status: 'rejected', reason, detail: err.message });

const failed =
  (reason: string, retryAfterMs?: number): Mapping =>
  (err) => ({ status: 'failed', reason, detail: err.message, ...(retryAfterMs ? { retryAfterMs } : {}) });

/**
 * FCM v1 answers INVALID_ARGUMENT both for a malformed token and for a malformed payload; only
 * the message tells them apart ("The registration token is not a valid FCM registration token").
 */
const invalidArgument: Mapping = (err) =>
  /\btoken\b/i.test(err.message ?? '')
    ? rejected('invalid_token')(err)
    : rejected('invalid_content')(err);

export const FCM_ERROR_TABLE: Readonly<Record<string, Mapping>> = {
  'messaging/registration-token-not-registered': rejected('unregistered_token'),
  'messaging/invalid-registration-token': rejected('invalid_token'),
  'messaging/invalid-recipient': rejected('invalid_token'),
  'messaging/invalid-argument': invalidArgument,
  'messaging/invalid-payload': rejected('invalid_content'),
  'messaging/invalid-data-payload-key': rejected('invalid_content'),
  'messaging/payload-size-limit-exceeded': rejected('invalid_content'),
  'messaging/invalid-options': rejected('invalid_content'),
  // Our credentials or project setup are wrong, not the recipient: fix config, then retry.
  'messaging/mismatched-credential': failed('config_mismatched_credential'),
  'messaging/third-party-auth-error': failed('config_third_party_auth'),
  'messaging/authentication-error': failed('config_authentication'),
  'app/invalid-credential': failed('config_invalid_credential'),
  'messaging/message-rate-exceeded': failed('rate_limited', FCM_QUOTA_RETRY_AFTER_MS),
  'messaging/device-message-rate-exceeded': failed('rate_limited', FCM_QUOTA_RETRY_AFTER_MS),
  'messaging/topics-message-rate-exceeded': failed('rate_limited', FCM_QUOTA_RETRY_AFTER_MS),
  // The SDK has already retried 503s and resets four times with back-off before we see these.
  'messaging/server-unavailable': failed('provider_unavailable'),
  'messaging/internal-error': failed('provider_internal_error'),
  'app/network-timeout': failed('timeout'),
  'app/network-error': failed('connection_error'),
};

export function mapFcmError(error: unknown): DeliveryResult {
  const err: FcmErrorLike = typeof error === 'object' && error !== null ? error : { message: String(error) };
  const mapping = err.code ? FCM_ERROR_TABLE[err.code] : undefined;
  return mapping ? mapping(err) : failed('unknown_error')({ message: `${err.code ?? 'no code'}: ${err.message}` });
}
