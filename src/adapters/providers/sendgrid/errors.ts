/**
 * The one table from SendGrid failures to port results, by HTTP status. Works on the shape of
 * the SDK's ResponseError (`code` = HTTP status, `response.headers`, `response.body.errors`)
 * and of axios network errors, so it needs no SDK import and tests can use plain objects.
 */
import type { DeliveryResult } from '../../../ports/deliveryProvider.ts';
import { parseRetryAfter } from '../retryAfter.ts';

export type Outcome = Exclude<DeliveryResult, { status: 'sent' }>;

/** One entry of SendGrid's `{ errors: [{ message, field, help }] }`. */
export interface SendgridErrorItem {
  message?: string;
  field?: string | null;
}

interface HttpFailure {
  status: number;
  headers: Record<string, unknown>;
  errors: SendgridErrorItem[];
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ECONNABORTED', 'ESOCKETTIMEDOUT']);

/** `personalizations.3.to.0.email` names the 4th personalization's recipient. */
const RECIPIENT_FIELD = /^personalizations\.(\d+)\.(?:to|cc|bcc)\b/;

function asHttpFailure(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, response } = error as { code?: unknown; response?: { headers?: unknown; body?: unknown } };
  if (typeof code !== 'number') return undefined;
  const body = response?.body as { errors?: unknown } | undefined;
  return {
    status: code,
    headers: (response?.headers ?? {}) as Record<string, unknown>,
    errors: Array.isArray(body?.errors) ? (body.errors as SendgridErrorItem[]) : [],
  };
}

function isAddressError(item: SendgridErrorItem): boolean {
  if (item.field) return RECIPIENT_FIELD.test(item.field);
  return /valid (email )?address/i.test(item.message ?? '');
}

/** Error messages name fields and rules, not recipients, so they are safe to keep as detail. */
function describe(failure: HttpFailure): string {
  const first = failure.errors[0];
  const text = first ? `${first.message ?? ''}${first.field ? ` (${first.field})` : ''}` : 'no error body';
  return `HTTP ${failure.status}: ${text}`;
}

function fromHttp(failure: HttpFailure, now: number): Outcome {
  const { status } = failure;
  const detail = describe(failure);
  if (status === 400) {
    const reason = failure.errors.some(isAddressError) ? 'invalid_address' : 'invalid_content';
    return { status: 'rejected', reason, detail };
  }
  if (status === 401) {
    return { status: 'failed', reason: 'auth_failed', detail: `SendGrid rejected HERALD_SENDGRID_API_KEY; ${detail}` };
  }
  if (status === 403) {
    const hint = 'check that HERALD_SENDGRID_FROM is a verified sender and the key has Mail Send access';
    return { status: 'failed', reason: 'forbidden', detail: `${hint}; ${detail}` };
  }
  if (status === 413) return { status: 'rejected', reason: 'invalid_content', detail: `payload too large; ${detail}` };
  if (status === 429) return { status: 'failed', reason: 'rate_limited', retryAfterMs: retryAfter(failure.headers, now), detail };
  // A 503 in maintenance may say how long: retrying within a second would only burn attempts.
  if (status >= 500) {
    const retryAfterMs = parseRetryAfter(failure.headers['retry-after'], now);
    return { status: 'failed', reason: 'provider_unavailable', ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), detail };
  }
  // Unlisted statuses (404, 405…) point at our request or a proxy, not at the recipient:
  // transient keeps the message alive until the processor's attempt limit.
  return { status: 'failed', reason: 'provider_error', detail };
}

function fromNetwork(error: unknown): Outcome | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const message = error instanceof Error ? error.message : '';
  if (TIMEOUT_CODES.has(code) || /timeout/i.test(message)) return { status: 'failed', reason: 'timeout', detail: code };
  if (NETWORK_CODES.has(code)) return { status: 'failed', reason: 'network', detail: code };
  return undefined;
}

/** Maps anything the SDK threw for one request to the result every recipient in it shares. */
export function sendgridErrorToResult(error: unknown, now = Date.now()): Outcome {
  const failure = asHttpFailure(error);
  if (failure) return fromHttp(failure, now);
  const network = fromNetwork(error);
  if (network) return network;
  return { status: 'failed', reason: 'unexpected', detail: error instanceof Error ? error.message : String(error) };
}

/** Personalization indexes a 400 names as bad addresses; empty when it names none. */
export function invalidPersonalizations(error: unknown): number[] {
  const failure = asHttpFailure(error);
  if (failure?.status !== 400) return [];
  const indexes = failure.errors.map((item) => RECIPIENT_FIELD.exec(item.field ?? '')?.[1]);
  return [...new Set(indexes.filter((index) => index !== undefined).map(Number))];
}

/** Retry-After (seconds or HTTP date), else X-RateLimit-Reset (Unix seconds). */
export function retryAfter(headers: Record<string, unknown>, now = Date.now()): number | undefined {
  const fromHeader = parseRetryAfter(headers['retry-after'], now);
  if (fromHeader !== undefined) return fromHeader;
  const reset = Number(headers['x-ratelimit-reset']);
  return Number.isFinite(reset) && reset > 0 ? Math.max(0, reset * 1000 - now) : undefined;
}
