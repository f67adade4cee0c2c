/**
 * A local stand-in for FCM HTTP v1 (`POST /v1/projects/{project}/messages:send`) over TLS on
 * 127.0.0.1, speaking HTTP/1.1 and HTTP/2. It checks what the SDK sent, records every attempt,
 * answers in Google's error format, and can be told to fail or delay a given token.
 * Reused by the benchmark: keep the API small and stable.
 */
import http2, { type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { createSelfSignedCert } from './tls.ts';
import { countConnections, type ConnectionCount } from './connections.ts';

export const FCM_HOST = 'fcm.googleapis.com';

/** Every error the FCM adapter's table knows how to receive from the wire. */
export const FCM_FAILURES = {
  unregistered: [404, 'NOT_FOUND', 'UNREGISTERED', 'Requested entity was not found.'],
  invalid_token: [400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'The registration token is not a valid FCM registration token'],
  invalid_argument: [400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT', "Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration)"],
  /** Legacy FCM code, still in the SDK's table. */
  invalid_registration: [400, 'INVALID_ARGUMENT', 'InvalidRegistration', 'Invalid registration'],
  sender_id_mismatch: [403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH', 'SenderId mismatch'],
  third_party_auth: [401, 'UNAUTHENTICATED', 'THIRD_PARTY_AUTH_ERROR', 'Auth error from APNS or Web Push Service'],
  quota_exceeded: [429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED', 'Quota exceeded for quota metric'],
  /** firebase-admin retries 503 four times (about 7 s of back-off) before giving up. */
  unavailable: [503, 'UNAVAILABLE', 'UNAVAILABLE', 'The service is currently unavailable.'],
  internal: [500, 'INTERNAL', 'INTERNAL', 'Internal error encountered.'],
} as const satisfies Record<string, readonly [number, string, string, string]>;

/** An error body, or `connection_reset`: the connection is cut without an answer. */
export type FcmFailureKind = keyof typeof FCM_FAILURES | 'connection_reset';

export interface FcmRequestRecord {
  path: string;
  httpVersion: string;
  authorization: string | undefined;
  token: string | undefined;
  body: unknown;
}

export interface FakeFcm extends ConnectionCount {
  port: number;
  url: string;
  projectId: string;
  /** The token `credential` hands out; the fake refuses any other. */
  accessToken: string;
  /** PEM of the self-signed certificate, valid for fcm.googleapis.com and 127.0.0.1. */
  ca: string;
  /** Routes every HTTPS connection to this fake, with TLS checked against `ca` (the http1 transport). */
  httpAgent: https.Agent;
  /** Routes the SDK's HTTP/2 transport to this fake until the returned function is called (see routeFcmHttp2). */
  routeHttp2(): () => void;
  credential: { getAccessToken(): Promise<{ access_token: string; expires_in: number }> };
  /** Every attempt, retries included, in arrival order. */
  requests: FcmRequestRecord[];
  /** What the fake found wrong with a request (auth, path, body). Tests expect it empty. */
  violations: string[];
  /** Fails every request for `token` with `kind`, or only its next `times` requests (the SDK's own retries count), answering 200 after. */
  failToken(token: string, kind: FcmFailureKind, options?: { retryAfterSeconds?: number; times?: number }): void;
  /** Holds every answer for `ms` (0 to stop). */
  delay(ms: number): void;
  /** When `token` arrives, waits `afterMs`, then closes its whole connection (every stream on it), answering nothing. */
  dropConnectionOn(token: string, afterMs: number): void;
  close(): Promise<void>;
}

interface Failure {
  kind: FcmFailureKind;
  retryAfterSeconds?: number;
  /** Requests left to fail; absent: all. */
  times?: number;
}

function googleError(res: Http2ServerResponse, kind: keyof typeof FCM_FAILURES, retryAfter?: number): void {
  const [code, status, errorCode, message] = FCM_FAILURES[kind];
  const details = [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }];
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=UTF-8' };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  res.writeHead(code, headers).end(JSON.stringify({ error: { code, message, status, details } }));
}

function cut(req: Http2ServerRequest): void {
  if (req.httpVersion === '2.0') req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else req.socket.destroy();
}

/** What is wrong with a request, or undefined. Checked on every attempt. */
function violation(req: Http2ServerRequest, record: FcmRequestRecord, projectId: string, accessToken: string): string | undefined {
  if (req.method !== 'POST') return `method ${req.method}`;
  if (record.path !== `/v1/projects/${projectId}/messages:send`) return `path ${record.path}`;
  if (record.authorization !== `Bearer ${accessToken}`) return 'authorization header';
  if (!String(req.headers['content-type']).startsWith('application/json')) return 'content-type';
  const message = (record.body as { message?: { token?: unknown; notification?: Record<string, unknown>; data?: Record<string, unknown> } }).message;
  if (typeof message?.token !== 'string') return 'body.message.token';
  // A data message (no notification block) is a message too; FCM takes notification fields as strings.
  if (message.notification && (typeof message.notification.title !== 'string' || typeof message.notification.body !== 'string')) {
    return 'body.message.notification';
  }
  // FCM's data is a map of strings (anything else is INVALID_ARGUMENT).
  if (message.data && Object.values(message.data).some((v) => typeof v !== 'string')) return 'body.message.data';
  return undefined;
}

/** Routes every HTTPS connection of firebase-admin to the fake, TLS checked against its certificate. */
export class FakeRouteAgent extends https.Agent {
  constructor(
    private readonly port: number,
    private readonly caPem: string,
    /** A bounded pool: a TLS handshake per message would dominate a 500-message batch. */
    maxSockets = 16,
  ) {
    super({ keepAlive: true, maxSockets, ca: caPem });
  }
  override createConnection(options: https.RequestOptions): Duplex {
    return connectToFake(this.port, this.caPem, 'http/1.1', options.servername ?? FCM_HOST);
  }
}

/** A TLS connection to the fake: only the destination changes, the SDK's host name is still checked against the certificate. */
function connectToFake(port: number, caPem: string, protocol: 'http/1.1' | 'h2', servername: string = FCM_HOST): tls.TLSSocket {
  return tls.connect({ host: '127.0.0.1', port, ca: caPem, servername, ALPNProtocols: [protocol] });
}

type Connect = typeof http2.connect;

/**
 * Reroutes firebase-admin's HTTP/2 transport (its default) to a fake until the returned function is
 * called. `sendEach` calls `http2.connect('https://fcm.googleapis.com', …)` itself, with no option
 * to change where it goes, so this wraps node:http2's `connect` in this thread: for that one
 * authority only the socket goes elsewhere (127.0.0.1:port, TLS checked against `ca` for
 * fcm.googleapis.com); sessions, streams, headers and bodies are the SDK's own. One header is
 * rewritten: the SDK sends `:scheme: https:` (its URL's protocol, colon included), which Google's
 * front end accepts and Node's HTTP/2 server refuses as a protocol error.
 */
export function routeFcmHttp2(port: number, caPem: string): () => void {
  const module = http2 as unknown as { connect: Connect };
  const original = module.connect;
  const rerouted = ((authority: string | URL, options?: http2.ClientSessionOptions | http2.SecureClientSessionOptions, listener?: () => void) => {
    if (String(authority) !== `https://${FCM_HOST}`) return original(authority, options ?? {}, listener);
    const session = original(authority, {
      ...options,
      createConnection: () => connectToFake(port, caPem, 'h2'),
    }, listener);
    const request = session.request.bind(session);
    session.request = (headers, streamOptions) => request({ ...headers, ':scheme': String(headers?.[':scheme'] ?? 'https').replace(/:$/, '') }, streamOptions);
    return session;
  }) as Connect;
  module.connect = rerouted;
  return () => {
    if (module.connect === rerouted) module.connect = original;
  };
}

async function readBody(req: Http2ServerRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startFakeFcm(options: { projectId?: string; accessToken?: string } = {}): Promise<FakeFcm> {
  const projectId = options.projectId ?? 'herald-test';
  const accessToken = options.accessToken ?? 'fake-fcm-access-token';
  const { key, cert } = createSelfSignedCert(['localhost', FCM_HOST, '127.0.0.1']);
  const failures = new Map<string, Failure>();
  const drops = new Map<string, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: FcmRequestRecord[] = [];
  const violations: string[] = [];
  let delayMs = 0;
  let sent = 0;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => (timers.delete(t), resolve()), ms);
      timers.add(t);
    });

  async function handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const body = await readBody(req);
    const token = (body as { message?: { token?: string } } | undefined)?.message?.token;
    const authorization = req.headers.authorization;
    const record: FcmRequestRecord = { path: req.url, httpVersion: req.httpVersion, authorization, token, body };
    requests.push(record);
    if (delayMs > 0) await wait(delayMs);
    const problem = violation(req, record, projectId, accessToken);
    if (problem) {
      violations.push(problem);
      return googleError(res, 'invalid_argument');
    }
    const dropAfter = token === undefined ? undefined : drops.get(token);
    if (dropAfter !== undefined) {
      await wait(dropAfter);
      if (req.httpVersion === '2.0') req.stream.session?.destroy();
      else req.socket.destroy();
      return;
    }
    const failure = token === undefined ? undefined : failures.get(token);
    if (failure?.times !== undefined && --failure.times <= 0) failures.delete(token!);
    if (failure?.kind === 'connection_reset') return cut(req);
    if (failure) return googleError(res, failure.kind, failure.retryAfterSeconds);
    sent += 1;
    res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
    res.end(JSON.stringify({ name: `projects/${projectId}/messages/${sent}` }));
  }

  const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
    handle(req, res).catch(() => cut(req));
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const connections = countConnections(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const httpAgent = new FakeRouteAgent(port, cert);

  return {
    connections,
    port,
    url: `https://127.0.0.1:${port}`,
    projectId,
    accessToken,
    ca: cert,
    httpAgent,
    routeHttp2: () => routeFcmHttp2(port, cert),
    credential: { getAccessToken: async () => ({ access_token: accessToken, expires_in: 3600 }) },
    requests,
    violations,
    failToken: (token, kind, opts = {}) => void failures.set(token, { kind, ...opts }),
    delay: (ms) => void (delayMs = ms),
    dropConnectionOn: (token, afterMs) => void drops.set(token, afterMs),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      httpAgent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
