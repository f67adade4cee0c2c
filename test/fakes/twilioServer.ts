/**
 * A local stand-in for the Twilio Messages API, good enough for the real SDK: it checks Basic
 * auth, the path and the form body, records what it received, answers like Twilio, and can be
 * told to fail a recipient with any error of the adapter's table or to answer slowly. Used by
 * the provider tests and the benchmark.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countConnections, type ConnectionCount } from './connections.ts';

export type TwilioFailureKind =
  | 'invalid_number'
  | 'not_mobile'
  | 'unsubscribed'
  | 'cannot_route'
  | 'region_disabled'
  | 'queue_full'
  | 'rate_limited'
  | 'auth'
  | 'server_error'
  | 'maintenance'
  | 'reset';

export interface TwilioReceived {
  accountSid: string;
  to: string;
  body: string;
  from?: string;
  messagingServiceSid?: string;
  statusCallback?: string;
  validityPeriod?: string;
  /** Set when the fake accepted the message. */
  sid?: string;
  answeredStatus: number;
}

export interface FailOptions {
  /** Seconds sent in Retry-After on `rate_limited` and `maintenance` (a 503). */
  retryAfterSeconds?: number;
  /** Fail this many times, then accept; unlimited when absent. */
  times?: number;
}

export interface FakeTwilio extends ConnectionCount {
  baseUrl: string;
  requests: TwilioReceived[];
  failRecipient(to: string, kind: TwilioFailureKind, options?: FailOptions): void;
  /** Delay before every answer, to exercise timeouts and concurrency. */
  setDelay(ms: number): void;
  close(): Promise<void>;
}

export interface FakeTwilioOptions {
  accountSid: string;
  /** Basic-auth user: the account SID, or an API key SID. Defaults to accountSid. */
  username?: string;
  password: string;
  /**
   * How long a kept-alive connection may stay idle before the fake closes it, as a provider's
   * edge does (Node's server default: 5 s).
   */
  idleTimeoutMs?: number;
}

interface TwilioError {
  status: number;
  code: number;
  message: string;
}
const ERRORS: Record<Exclude<TwilioFailureKind, 'reset'>, TwilioError> = {
  invalid_number: { status: 400, code: 21211, message: "The 'To' number is not a valid phone number." },
  not_mobile: { status: 400, code: 21614, message: "'To' number is not a valid mobile number" },
  unsubscribed: { status: 400, code: 21610, message: 'Attempt to send to unsubscribed recipient' },
  cannot_route: { status: 400, code: 21612, message: "The 'To' phone number is not currently reachable" },
  region_disabled: { status: 400, code: 21408, message: 'Permission to send an SMS has not been enabled' },
  queue_full: { status: 400, code: 21611, message: 'This From number has exceeded the maximum queue size' },
  rate_limited: { status: 429, code: 20429, message: 'Too Many Requests' },
  auth: { status: 401, code: 20003, message: 'Authenticate' },
  server_error: { status: 500, code: 20500, message: 'Internal Server Error' },
  maintenance: { status: 503, code: 20503, message: 'Service Unavailable' },
};

const PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/i;

function sendError(res: http.ServerResponse, error: TwilioError, headers: Record<string, string> = {}): void {
  const body = { ...error, more_info: `https://www.twilio.com/docs/errors/${error.code}` };
  res.writeHead(error.status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeTwilio(options: FakeTwilioOptions): Promise<FakeTwilio> {
  const expectedAuth = `Basic ${Buffer.from(`${options.username ?? options.accountSid}:${options.password}`).toString('base64')}`;
  const failures = new Map<string, { kind: TwilioFailureKind; options: FailOptions }>();
  const requests: TwilioReceived[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let delayMs = 0;

  function later(fn: () => void): void {
    if (delayMs === 0) return fn();
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, delayMs);
    timers.add(timer);
  }

  /** Returns the failure to play for this recipient, consuming one of its `times`. */
  function takeFailure(to: string) {
    const failure = failures.get(to);
    if (!failure) return undefined;
    if (failure.options.times !== undefined && --failure.options.times <= 0) failures.delete(to);
    return failure;
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const match = PATH.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      return sendError(res, { status: 404, code: 20404, message: 'The requested resource was not found' });
    }
    if (req.headers.authorization !== expectedAuth || match[1] !== options.accountSid) {
      return sendError(res, ERRORS.auth);
    }
    if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      return sendError(res, { status: 400, code: 20001, message: 'Expected a form-encoded body' });
    }
    const form = new URLSearchParams(raw);
    const received: TwilioReceived = {
      accountSid: match[1],
      to: form.get('To') ?? '',
      body: form.get('Body') ?? '',
      from: form.get('From') ?? undefined,
      messagingServiceSid: form.get('MessagingServiceSid') ?? undefined,
      statusCallback: form.get('StatusCallback') ?? undefined,
      validityPeriod: form.get('ValidityPeriod') ?? undefined,
      answeredStatus: 0,
    };
    requests.push(received);
    const problem = checkForm(received);
    const failure = problem ? undefined : takeFailure(received.to);
    if (failure?.kind === 'reset') return void req.socket.destroy();
    const error = problem ?? (failure ? ERRORS[failure.kind] : undefined);
    if (error) {
      received.answeredStatus = error.status;
      const retryAfter = failure?.kind === 'rate_limited' || failure?.kind === 'maintenance' ? String(failure.options.retryAfterSeconds ?? 1) : undefined;
      return sendError(res, error, retryAfter ? { 'retry-after': retryAfter } : {});
    }
    received.sid = `SM${randomBytes(16).toString('hex')}`;
    received.answeredStatus = 201;
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(messageResource(received)));
  }

  const server = http.createServer((req, res) => {
    readBody(req).then(
      (raw) => later(() => answer(req, res, raw)),
      () => req.socket.destroy(),
    );
  });
  if (options.idleTimeoutMs !== undefined) server.keepAliveTimeout = options.idleTimeoutMs;
  const connections = countConnections(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    connections,
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    failRecipient: (to, kind, failOptions = {}) => void failures.set(to, { kind, options: { ...failOptions } }),
    setDelay: (ms) => void (delayMs = ms),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

/** Twilio's own validation errors for a missing To, Body or sender. */
function checkForm(received: TwilioReceived): TwilioError | undefined {
  if (!received.to) return { status: 400, code: 21604, message: "A 'To' phone number is required." };
  if (!received.body) return { status: 400, code: 21602, message: 'Message body is required.' };
  if (!received.from && !received.messagingServiceSid) {
    return { status: 400, code: 21603, message: "A 'From' phone number is required." };
  }
  return undefined;
}

function messageResource(received: TwilioReceived) {
  return {
    sid: received.sid,
    account_sid: received.accountSid,
    to: received.to,
    from: received.from ?? null,
    messaging_service_sid: received.messagingServiceSid ?? null,
    body: received.body,
    status: received.messagingServiceSid ? 'accepted' : 'queued',
    num_segments: '1',
    direction: 'outbound-api',
    api_version: '2010-04-01',
    date_created: new Date().toUTCString(),
    uri: `/2010-04-01/Accounts/${received.accountSid}/Messages/${received.sid}.json`,
  };
}
