/**
 * The one table from Twilio failures to port results. Rejected means the same SMS to the same
 * number can never succeed; failed means try again later. Works on the shape of the SDK's
 * RestException / TwilioServiceException (numeric `status` and Twilio `code`) and of axios network
 * errors, so this file needs no SDK import and can be tested with plain objects.
 */
import type { DeliveryResult } from '../../../ports/deliveryProvider.ts';

type Outcome = Exclude<DeliveryResult, { status: 'sent' }>;

/** A configuration problem, yet `failed`: once the operator fixes the key the message can go. */
const AUTH_FAILED: Outcome = {
  status: 'failed',
  reason: 'auth_failed',
  detail: 'Twilio rejected the credentials: check HERALD_TWILIO_ACCOUNT_SID and its auth token or API key',
};

/**
 * Twilio error codes, https://www.twilio.com/docs/api/errors/<code>: those a send is refused with,
 * and those a status callback reports after Twilio accepted the message (30xxx, ErrorCode of an
 * undelivered or failed message), read through the same table (twilioCodeResult) so the two
 * cannot disagree about a number. Only what means "this number will never take SMS" is rejected:
 * not 30003 (handset off or out of coverage), 30004 (blocked: an opt-out, a do-not-disturb list,
 * carrier filtering or an unreachable device, Twilio cannot say which), 30007 (content filtered)
 * or 30008 (unknown carrier error). A callback code listed `failed` is a passing one: the message
 * is sent again (tracking/undeliveredResend.ts); one not listed (30004, 30007, 30034 unregistered
 * sender, …) is only recorded, since sending it again would meet the same refusal.
 */
const BY_TWILIO_CODE = new Map<number, Outcome>([
  [21211, { status: 'rejected', reason: 'invalid_address', detail: "21211: invalid 'To' number" }],
  // The carrier does not know the number: it does not exist or is no longer in service.
  [30005, { status: 'rejected', reason: 'invalid_address', detail: '30005: unknown destination handset' }],
  // A landline (or, from a short code, a carrier that short code cannot reach): Twilio's advice is
  // to stop sending SMS to it. invalid_address, so an operator may clear it if the number was misjudged.
  [30006, { status: 'rejected', reason: 'invalid_address', detail: '30006: landline or unreachable carrier' }],
  [21614, { status: 'rejected', reason: 'invalid_address', detail: '21614: not a mobile number' }],
  [21610, { status: 'rejected', reason: 'unsubscribed', detail: '21610: recipient replied STOP' }],
  [21612, { status: 'rejected', reason: 'blocked', detail: '21612: number not reachable from this sender' }],
  [
    21408,
    {
      status: 'rejected',
      reason: 'blocked',
      detail: '21408: region not enabled; allow it under Messaging → Settings → Geo permissions',
    },
  ],
  [21602, { status: 'rejected', reason: 'invalid_content', detail: '21602: message body is required' }],
  [21617, { status: 'rejected', reason: 'invalid_content', detail: '21617: body exceeds 1,600 characters' }],
  // The sender's queue holds 10 hours of messages; it drains, so this is worth retrying.
  [21611, { status: 'failed', reason: 'queue_full', detail: '21611: sender queue is full' }],
  [20003, AUTH_FAILED],
  // Callback codes Twilio's error pages advise sending again for: the cause passes.
  [30001, { status: 'failed', reason: 'queue_overflow', detail: '30001: queue overflow; send again after a while' }],
  [30003, { status: 'failed', reason: 'handset_unreachable', detail: '30003: handset off, out of coverage or otherwise unreachable for now' }],
  [30008, { status: 'failed', reason: 'carrier_unknown_error', detail: '30008: unknown carrier error' }],
  [30017, { status: 'failed', reason: 'carrier_congestion', detail: '30017: carrier network congestion' }],
  [30500, { status: 'failed', reason: 'provider_unavailable', detail: '30500: Twilio internal error; send again' }],
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT']);

interface RestShape {
  status: number;
  code?: number;
  message?: string;
}

function asRest(error: unknown): RestShape | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, code, message } = error as Record<string, unknown>;
  if (typeof status !== 'number') return undefined;
  return {
    status,
    code: typeof code === 'number' ? code : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}

function fromRest(rest: RestShape, retryAfterMs: number | undefined): Outcome {
  const known = rest.code === undefined ? undefined : BY_TWILIO_CODE.get(rest.code);
  if (known) return known;
  if (rest.code === 20429 || rest.status === 429) {
    return { status: 'failed', reason: 'rate_limited', retryAfterMs, detail: 'Twilio answered 429 Too Many Requests' };
  }
  if (rest.status === 401) return AUTH_FAILED;
  // A 503 in maintenance may say how long: retrying within a second would only burn attempts.
  if (rest.status >= 500) return { status: 'failed', reason: 'provider_unavailable', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail: `HTTP ${rest.status}` };
  // An unknown 4xx is most likely a new or rare Twilio code. Retrying is bounded by the
  // processor's attempt limit, whereas a wrong permanent rejection silently loses the message.
  return { status: 'failed', reason: 'provider_error', detail: `HTTP ${rest.status}, Twilio code ${rest.code ?? 'none'}` };
}

function fromNetwork(error: unknown): Outcome | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const message = error instanceof Error ? error.message : '';
  if (TIMEOUT_CODES.has(code) || /timeout/i.test(message)) {
    return { status: 'failed', reason: 'timeout', detail: code };
  }
  if (NETWORK_CODES.has(code)) return { status: 'failed', reason: 'network', detail: code };
  return undefined;
}

/** What a Twilio error code alone says (a status callback's ErrorCode), or undefined when the table does not know it. */
export function twilioCodeResult(code: number): Outcome | undefined {
  return BY_TWILIO_CODE.get(code);
}

/** Maps anything the SDK threw while creating one message to that message's result. */
export function twilioErrorToResult(error: unknown, retryAfterMs?: number): Outcome {
  const rest = asRest(error);
  if (rest) return fromRest(rest, retryAfterMs);
  const network = fromNetwork(error);
  if (network) return network;
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 'failed', reason: 'unexpected', detail };
}
