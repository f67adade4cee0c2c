/**
 * The only file that imports the Twilio SDK. It turns "create one message" into a value:
 * the message SID, or the SDK's error plus the Retry-After the response carried; and it lends the
 * SDK's webhook signature check to the webhook routes (isTwilioSignature).
 *
 * Why a RequestClient subclass is the seam: the SDK has no base-URL option (only region/edge,
 * which still point at twilio.com), and its RestException drops the response headers, so
 * Retry-After on a 429 is lost by the time the error reaches us. `httpClient` is the SDK's
 * documented extension point and sees every request and response, so one small subclass
 * rewrites the origin (fakes, proxies), captures the headers, and makes the HTTP call itself
 * with node's http(s) instead of the SDK's axios (see `request`): the SDK still builds every
 * request (resource path, parameters, auth) and reads every response (message, RestException).
 *
 * The headers go back to the send that asked, not into a shared field such as the SDK's own
 * `lastResponse`, because one client serves many concurrent sends. `messages.create` reaches
 * `httpClient.request` synchronously (twilio 6: Version.create → Domain.request →
 * Client.request), so `send` leaves its slot in `nextSlot` for exactly that call, and the
 * request takes it before its first await. (AsyncLocalStorage did this before, but on Node 20 it
 * turns on async hooks for every promise of the delivery thread: about 2 % of that thread.)
 * Should a future SDK make that path asynchronous, the request finds no slot and a 429 simply
 * loses its Retry-After hint; the sends never mix their answers up.
 */
import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type { TwilioConfig } from './config.ts';
import { parseRetryAfter } from '../retryAfter.ts';
import { formPairs, jsonOrText } from './wireFormat.ts';

export interface SmsRequest {
  to: string;
  body: string;
  /** Seconds Twilio may keep it queued before dropping it (1–36,000); absent: Twilio's default, the maximum. */
  validityPeriod?: number;
}
export type SmsOutcome = { ok: true; sid: string } | { ok: false; error: unknown; retryAfterMs?: number };

export interface TwilioGateway {
  send(request: SmsRequest): Promise<SmsOutcome>;
  close(): void;
}

/** The response headers seen during one `send`. */
interface HeaderSlot {
  headers?: Record<string, unknown>;
}
/** Set by `send` only around its synchronous call into the SDK (see above). */
let nextSlot: HeaderSlot | undefined;

class HeraldRequestClient extends twilio.RequestClient {
  readonly #baseUrl: URL | undefined;

  constructor(baseUrl: string | undefined, timeoutMs: number) {
    // No SDK auto-retry: the delivery processor owns retries and needs to see every 429.
    super({ timeout: timeoutMs, autoRetry: false });
    this.#baseUrl = baseUrl === undefined ? undefined : new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    // The SDK only builds an https agent; a plain-http fake or proxy gets its own pooled agent
    // so that close() can release those sockets too.
    this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, timeout: timeoutMs });
  }

  /**
   * The SDK's own request() goes through axios: about 130 µs of CPU per message on the delivery
   * thread against the fake (config merging, interceptors, adapters), for one form POST on a
   * kept-alive socket. This sends the same request (method, headers, Basic auth, the form body
   * as the SDK encodes it) with node's http(s) on the agents the SDK built (keep-alive; a proxy
   * agent when the environment asks for one), and answers in the shape axios gave the SDK:
   * status, the body parsed when it is JSON (else its text, which the SDK also reads), headers.
   * Network errors keep node's codes; a response slower than the timeout fails with ETIMEDOUT,
   * as errors.ts expects.
   */
  override async request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const slot = nextSlot;
    nextSlot = undefined;
    const response = await this.#send(opts);
    if (slot) slot.headers = response.headers;
    return response;
  }

  async #send<TData>(opts: RequestClient.RequestOptions<TData>): Promise<{ statusCode: number; body: TData; headers: Record<string, unknown> }> {
    const url = new URL(this.#rebase(opts.uri));
    if (opts.params) for (const [key, value] of formPairs(opts.params)) url.searchParams.append(key, value);
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.username && opts.password) headers.Authorization = `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`;
    else if (opts.authStrategy) headers.Authorization = await opts.authStrategy.getAuthString();
    headers.Connection = 'keep-alive';
    let body: string | undefined;
    if (opts.data !== undefined && opts.data !== null) {
      const type = headers['Content-Type'] ?? 'application/x-www-form-urlencoded';
      body = type === 'application/json' ? JSON.stringify(opts.data) : new URLSearchParams(formPairs(opts.data)).toString();
      headers['Content-Type'] = type;
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const plain = url.protocol === 'http:';
    const agent = (plain ? this.axios.defaults.httpAgent : this.axios.defaults.httpsAgent) as http.Agent | undefined;
    const timeoutMs = opts.timeout ?? this.defaultTimeout;
    return new Promise((resolve, reject) => {
      const req = (plain ? http : https).request(url, { method: opts.method.toUpperCase(), headers, agent }, (res) => {
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ statusCode: res.statusCode ?? 0, body: jsonOrText(chunks.join('')) as TData, headers: res.headers });
        });
        res.on('error', fail);
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`Twilio did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
      function fail(error: Error) {
        clearTimeout(timer);
        reject(error);
      }
      req.on('error', fail);
      req.end(body);
    });
  }

  /** Keeps path and query, swaps the origin; a path in the base URL becomes a prefix. */
  #rebase(uri: string): string {
    if (!this.#baseUrl) return uri;
    const original = new URL(uri);
    return new URL(`${original.pathname.slice(1)}${original.search}`, this.#baseUrl).href;
  }

  /** Releases pooled sockets; the https agent may be a proxy agent without destroy(). */
  destroy(): void {
    for (const agent of [this.axios.defaults.httpAgent, this.axios.defaults.httpsAgent]) {
      (agent as { destroy?: () => void } | undefined)?.destroy?.();
    }
  }
}

function credentials(config: TwilioConfig): [username: string, password: string] {
  return config.auth.kind === 'authToken'
    ? [config.accountSid, config.auth.authToken]
    : [config.auth.apiKey, config.auth.apiSecret];
}

/** One SDK client per credential set, reused for every message. */
export function createTwilioGateway(config: TwilioConfig): TwilioGateway {
  const httpClient = new HeraldRequestClient(config.baseUrl, config.timeoutMs);
  const [username, password] = credentials(config);
  const client = twilio(username, password, {
    accountSid: config.accountSid,
    httpClient,
    // TWILIO_LOG_LEVEL=debug would make the SDK print request parameters, phone numbers included.
    logLevel: 'info',
  });
  const sender =
    config.sender.kind === 'from' ? { from: config.sender.from } : { messagingServiceSid: config.sender.sid };

  async function send(request: SmsRequest): Promise<SmsOutcome> {
    const slot: HeaderSlot = {};
    try {
      let created;
      nextSlot = slot;
      try {
        created = client.messages.create({
          to: request.to,
          body: request.body,
          ...sender,
          ...(request.validityPeriod ? { validityPeriod: request.validityPeriod } : {}),
          ...(config.statusCallbackUrl ? { statusCallback: config.statusCallbackUrl } : {}),
        });
      } finally {
        nextSlot = undefined;
      }
      const message = await created;
      return { ok: true, sid: message.sid };
    } catch (error) {
      return { ok: false, error, retryAfterMs: parseRetryAfter(slot.headers?.['retry-after']) };
    }
  }

  return { send, close: () => httpClient.destroy() };
}

/**
 * Whether `signature` (X-Twilio-Signature) is Twilio's over `url` and the form fields, checked by
 * the SDK's validateRequest: the URL as given, with and without its default port (:443, :80), then
 * as `new URL()` normalises it. The SDK's own function rather than a copy, so its tolerance follows
 * Twilio's fixes. False, never a throw, for a URL the SDK cannot parse.
 */
export function isTwilioSignature(authToken: string, signature: string, url: string, fields: Record<string, string | string[]>): boolean {
  try {
    return twilio.validateRequest(authToken, signature, url, fields);
  } catch {
    return false;
  }
}
