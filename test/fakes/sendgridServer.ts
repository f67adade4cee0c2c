/**
 * A local stand-in for SendGrid's v3 mail/send, good enough for the real SDK: it checks the
 * Bearer key, the path and the JSON body shape, records what it received, answers 202 with an
 * X-Message-Id or SendGrid-style `{ errors: [{ message, field, help }] }`, and can be told to
 * fail a recipient with any error of the adapter's table or to answer slowly. Like SendGrid, a
 * failure applies to the whole request; a bad address is reported per personalization field.
 *
 * Limits it enforces as SendGrid documents them: at most 1,000 personalizations, each address
 * once per request, substitutions as string → string of at most 10,000 bytes (tags and values)
 * per personalization, headers as string → string without the ones SendGrid sets itself. An
 * accepted request is also recorded as the emails SendGrid would send: one per personalization,
 * its substitutions applied to subject and content, with its headers.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { countConnections, type ConnectionCount } from './connections.ts';

export type SendgridFailureKind =
  | 'invalid_address'
  | 'invalid_content'
  | 'unauthorized'
  | 'forbidden'
  | 'too_large'
  | 'rate_limited'
  | 'rate_limited_reset'
  | 'server_error'
  | 'maintenance'
  | 'reset';

export interface MailBody {
  personalizations: { to: { email: string; name?: string }[]; custom_args?: Record<string, string>; substitutions?: Record<string, unknown>; headers?: Record<string, unknown> }[];
  from: { email: string; name?: string };
  reply_to?: { email: string; name?: string };
  subject: string;
  content: { type: string; value: string }[];
  categories?: string[];
  custom_args?: Record<string, string>;
}

/** One email as a recipient would get it. */
export interface SentMail {
  to: string;
  notificationId: string | undefined;
  subject: string;
  text: string | undefined;
  html: string | undefined;
  /** The personalization's headers, as sent. */
  headers: Record<string, string>;
}

export interface SendgridReceived {
  body: MailBody;
  /** Set when the fake accepted the request: one per personalization, substitutions applied. */
  mails?: SentMail[];
  /** Set when the fake accepted the request. */
  messageId?: string;
  answeredStatus: number;
}

export interface FailOptions {
  /** Seconds in Retry-After (`rate_limited`, `maintenance`) or until X-RateLimit-Reset (`rate_limited_reset`). */
  retryAfterSeconds?: number;
  /** Fail this many requests, then accept; unlimited when absent. */
  times?: number;
  /** `invalid_address` only: answer with a message but no `field`, so the bad one is not named. */
  withoutField?: boolean;
}

export interface FakeSendgrid extends ConnectionCount {
  baseUrl: string;
  /** Requests answered (after any delay). */
  requests: SendgridReceived[];
  /** Requests whose body had arrived, answered or not yet (a delayed one counts at once). */
  readonly arrived: number;
  failRecipient(to: string, kind: SendgridFailureKind, options?: FailOptions): void;
  setDelay(ms: number): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  errors: { message: string; field: string | null }[];
  headers?: Record<string, string>;
}
const err = (status: number, message: string, field: string | null = null): Answer => ({ status, errors: [{ message, field }] });

const ANSWERS: Record<Exclude<SendgridFailureKind, 'reset' | 'invalid_address'>, Answer> = {
  invalid_content: err(400, 'The content value must be a string at least one character in length.', 'content.0.value'),
  unauthorized: err(401, 'The provided authorization grant is invalid, expired, or revoked'),
  forbidden: err(403, 'The from address does not match a verified Sender Identity.'),
  too_large: err(413, 'Payload Too Large'),
  rate_limited: err(429, 'too many requests'),
  rate_limited_reset: err(429, 'too many requests'),
  server_error: err(500, 'Internal Server Error'),
  maintenance: err(503, 'Service Unavailable'),
};
const ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const MAX_SUBSTITUTION_BYTES = 10_000;

function send(res: http.ServerResponse, answer: Answer): void {
  const errors = answer.errors.map((e) => ({ ...e, help: 'https://sendgrid.com/docs/for-developers/sending-email/' }));
  res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify({ errors }));
}

/** The body-shape checks SendGrid itself makes, reported the way it reports them. */
function checkShape(body: Partial<MailBody>): Answer | undefined {
  if (typeof body.from?.email !== 'string') return err(400, 'The from object must be provided', 'from');
  if (typeof body.subject !== 'string') return err(400, 'The subject is required.', 'subject');
  if (!Array.isArray(body.content) || body.content.length === 0) return err(400, 'Content is required.', 'content');
  const p = body.personalizations;
  if (!Array.isArray(p) || p.length === 0) return err(400, 'You must have at least one personalization.', 'personalizations');
  if (p.length > 1000) return err(400, 'The personalization block is limited to 1000 personalizations.', 'personalizations');
  const bad = p.findIndex((item) => !Array.isArray(item.to) || item.to.length === 0);
  if (bad >= 0) return err(400, 'The to array is required.', `personalizations.${bad}.to`);
  const addresses = p.flatMap((item) => item.to.map((to) => String(to.email).toLowerCase()));
  if (new Set(addresses).size < addresses.length) return err(400, 'Each unique email address in the personalizations array should only be included once.', 'personalizations');
  return checkMaps(p, 'substitutions', substitutionProblem) ?? checkMaps(p, 'headers', headerProblem);
}

/** Headers SendGrid sets itself and refuses in `headers` (v3 mail/send reference). */
const RESERVED_HEADERS = new Set(['x-sg-id', 'x-sg-eid', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding', 'to', 'from', 'subject', 'reply-to', 'cc', 'bcc']);

const headerProblem = (entries: [string, string][]) => {
  const reserved = entries.find(([name]) => RESERVED_HEADERS.has(name.toLowerCase()));
  return reserved ? `The header ${reserved[0]} is reserved and cannot be set.` : undefined;
};
const substitutionProblem = (entries: [string, string][]) => {
  const bytes = entries.reduce((sum, [tag, value]) => sum + Buffer.byteLength(tag) + Buffer.byteLength(value), 0);
  return bytes > MAX_SUBSTITUTION_BYTES ? `The total size of substitutions may not exceed ${MAX_SUBSTITUTION_BYTES} bytes per personalization.` : undefined;
};

/** Each personalization's `substitutions` or `headers`: string keys to string values, then what else SendGrid asks of that map. */
function checkMaps(personalizations: MailBody['personalizations'], key: 'substitutions' | 'headers', problem: (entries: [string, string][]) => string | undefined): Answer | undefined {
  for (const [i, personalization] of personalizations.entries()) {
    const map = personalization[key];
    if (map === undefined) continue;
    const field = `personalizations.${i}.${key}`;
    const entries = typeof map === 'object' && map !== null ? Object.entries(map) : undefined;
    if (!entries?.every((entry): entry is [string, string] => typeof entry[1] === 'string')) return err(400, `${key[0]!.toUpperCase()}${key.slice(1)} must be an object of string keys and string values.`, field);
    const message = problem(entries);
    if (message) return err(400, message, field);
  }
  return undefined;
}

/** What SendGrid sends each personalization: every tag in subject and content replaced, in one pass. */
function mailsOf(body: MailBody): SentMail[] {
  const part = (type: string) => body.content.find((c) => c.type === type)?.value;
  return body.personalizations.flatMap((p) => {
    const values = (p.substitutions ?? {}) as Record<string, string>;
    const tags = Object.keys(values).sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const pattern = new RegExp(tags.length > 0 ? tags.join('|') : '(?!)', 'g');
    const apply = (text: string) => text.replace(pattern, (tag) => values[tag] ?? tag);
    const [text, html] = [part('text/plain'), part('text/html')].map((value) => (value === undefined ? undefined : apply(value)));
    const mail = { notificationId: p.custom_args?.notificationId, subject: apply(body.subject), text, html, headers: (p.headers ?? {}) as Record<string, string> };
    return p.to.map((to) => ({ to: to.email, ...mail }));
  });
}

export interface FakeSendgridOptions {
  apiKey: string;
  /** Name only the first bad address of a request instead of all of them. */
  firstAddressErrorOnly?: boolean;
  /**
   * How long a kept-alive connection may stay idle before the fake closes it, as a provider's
   * edge does (Node's server default: 5 s).
   */
  idleTimeoutMs?: number;
}

export async function startFakeSendgrid(options: FakeSendgridOptions): Promise<FakeSendgrid> {
  const failures = new Map<string, { kind: SendgridFailureKind; options: FailOptions }>();
  const requests: SendgridReceived[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let delayMs = 0;
  let arrived = 0;

  function failureFor(body: MailBody): { kind: SendgridFailureKind; options: FailOptions } | undefined {
    const recipients = body.personalizations.flatMap((p) => p.to.map((to) => to.email));
    const hit = recipients.map((to) => ({ to, failure: failures.get(to) })).find((r) => r.failure);
    if (!hit?.failure) return undefined;
    if (hit.failure.options.times !== undefined && --hit.failure.options.times <= 0) failures.delete(hit.to);
    return hit.failure;
  }

  /** Every personalization whose address is malformed or marked invalid, as SendGrid lists them. */
  function addressErrors(body: MailBody): Answer | undefined {
    const errors = body.personalizations.flatMap((p, i) =>
      p.to.flatMap((to, j) => {
        const marked = failures.get(to.email);
        if (ADDRESS.test(to.email) && marked?.kind !== 'invalid_address') return [];
        const field = marked?.options.withoutField ? null : `personalizations.${i}.to.${j}.email`;
        return [{ message: 'Does not contain a valid address.', field }];
      }),
    );
    if (errors.length === 0) return undefined;
    return { status: 400, errors: options.firstAddressErrorOnly ? errors.slice(0, 1) : errors };
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    if (req.method !== 'POST' || req.url !== '/v3/mail/send') return send(res, err(404, 'Not found'));
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) return send(res, ANSWERS.unauthorized);
    if (!req.headers['content-type']?.startsWith('application/json')) return send(res, err(415, 'JSON expected'));
    let body: MailBody;
    try {
      body = JSON.parse(raw) as MailBody;
    } catch {
      return send(res, err(400, 'Bad Request', null));
    }
    const received: SendgridReceived = { body, answeredStatus: 0 };
    requests.push(received);
    const problem = checkShape(body) ?? addressErrors(body);
    const failure = problem ? undefined : failureFor(body);
    if (failure?.kind === 'reset') return void req.socket.destroy();
    const error = problem ?? (failure ? failureAnswer(failure.kind as keyof typeof ANSWERS, failure.options) : undefined);
    if (error) {
      received.answeredStatus = error.status;
      return send(res, error);
    }
    received.messageId = randomBytes(16).toString('base64url');
    received.mails = mailsOf(body);
    received.answeredStatus = 202;
    res.writeHead(202, { 'x-message-id': received.messageId }).end();
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      arrived += 1;
      const run = () => answer(req, res, Buffer.concat(chunks).toString('utf8'));
      if (delayMs === 0) return run();
      const timer = setTimeout(() => (timers.delete(timer), run()), delayMs);
      timers.add(timer);
    });
  });
  if (options.idleTimeoutMs !== undefined) server.keepAliveTimeout = options.idleTimeoutMs;
  const connections = countConnections(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    connections,
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    get arrived() {
      return arrived;
    },
    failRecipient: (to, kind, failOptions = {}) => void failures.set(to, { kind, options: { ...failOptions } }),
    setDelay: (ms) => void (delayMs = ms),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function failureAnswer(kind: keyof typeof ANSWERS, options: FailOptions): Answer {
  const seconds = options.retryAfterSeconds ?? 1;
  if (kind === 'rate_limited' || kind === 'maintenance') return { ...ANSWERS[kind], headers: { 'retry-after': String(seconds) } };
  if (kind === 'rate_limited_reset') {
    const reset = String(Math.ceil(Date.now() / 1000) + seconds);
    return { ...ANSWERS[kind], headers: { 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } };
  }
  return ANSWERS[kind];
}
