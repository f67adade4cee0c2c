/**
 * The one table from APNs answers to delivery results. node-apn reports a failed device as
 * `{ status, response: { reason } }`, or for a few reasons it rewrites (500, ExpiredProviderToken)
 * as `{ status, error }` with the reason in the error message, or for transport problems as
 * `{ error }` alone. Unknown answers are transient: a wrong "failed" costs a retry, a wrong
 * "rejected" would drop a valid token for good.
 */
import type { DeliveryResult, RejectReason } from '../../../ports/deliveryProvider.ts';

export interface ApnsFailureLike {
  status?: number | string;
  response?: { reason?: string };
  error?: { message?: string };
}

type Mapping = (detail: string) => DeliveryResult;

const rejected =
  (reason: RejectReason): Mapping =>
  (detail) => ({ status: 'rejected', reason, detail });
const failed =
  (reason: string): Mapping =>
  (detail) => ({ status: 'failed', reason, detail });

/** Keyed by APNs `reason` (developer.apple.com: "Handling notification responses from APNs"). */
export const APNS_ERROR_TABLE: Readonly<Record<string, Mapping>> = {
  Unregistered: rejected('unregistered_token'),
  ExpiredToken: rejected('unregistered_token'),
  BadDeviceToken: rejected('invalid_token'),
  DeviceTokenNotForTopic: rejected('invalid_token'),
  MissingDeviceToken: rejected('invalid_token'),
  PayloadTooLarge: rejected('invalid_content'),
  PayloadEmpty: rejected('invalid_content'),
  BadCollapseId: rejected('invalid_content'),
  BadExpirationDate: rejected('invalid_content'),
  BadPriority: rejected('invalid_content'),
  BadMessageId: rejected('invalid_content'),
  InvalidPushType: rejected('invalid_content'),
  // Our configuration, not the recipient: fixing HERALD_APNS_* makes the same message deliverable.
  BadTopic: failed('config_bad_topic'),
  MissingTopic: failed('config_bad_topic'),
  TopicDisallowed: failed('config_bad_topic'),
  InvalidProviderToken: failed('config_invalid_provider_token'),
  MissingProviderToken: failed('config_invalid_provider_token'),
  ExpiredProviderToken: failed('config_expired_provider_token'),
  BadCertificate: failed('config_bad_certificate'),
  BadCertificateEnvironment: failed('config_bad_certificate'),
  Forbidden: failed('config_forbidden'),
  // Apple sends no Retry-After with 429, and node-apn would drop it anyway: no retryAfterMs.
  TooManyRequests: failed('rate_limited'),
  TooManyProviderTokenUpdates: failed('rate_limited'),
  InternalServerError: failed('provider_internal_error'),
  ServiceUnavailable: failed('provider_unavailable'),
  Shutdown: failed('provider_unavailable'),
  IdleTimeout: failed('connection_error'),
};

/** For answers whose reason we do not know or node-apn did not keep. */
function byStatus(status: number): Mapping | undefined {
  if (status === 410) return rejected('unregistered_token');
  if (status === 413) return rejected('invalid_content');
  if (status === 403) return failed('config_forbidden');
  if (status === 429) return failed('rate_limited');
  if (status === 500) return failed('provider_internal_error');
  if (status >= 500) return failed('provider_unavailable');
  return undefined;
}

export function mapApnsFailure(failure: ApnsFailureLike): DeliveryResult {
  const status = Number(failure.status);
  const reason = failure.response?.reason ?? failure.error?.message ?? 'no reason';
  const detail = Number.isInteger(status) ? `${status} ${reason}` : reason;
  const mapping = APNS_ERROR_TABLE[reason] ?? (Number.isInteger(status) ? byStatus(status) : undefined);
  if (mapping) return mapping(detail);
  if (Number.isInteger(status)) return failed('unknown_error')(detail);
  // No HTTP answer at all: the stream or the connection broke.
  return failed(/timeout/i.test(reason) ? 'timeout' : 'connection_error')(detail);
}
