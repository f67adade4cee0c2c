/**
 * A local stand-in for APNs: HTTP/2 over TLS on 127.0.0.1 with a self-signed P-256 certificate.
 * It verifies the provider token (ES256 JWT signed with the .p8 key it hands out), the path, the
 * apns-* headers and the body; records every request; and can be told to answer a device token
 * with any APNs error, to reset its stream, or to delay answers. Reused by the benchmark.
 */
import http2, { type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { generateKeyPairSync, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createSelfSignedCert } from './tls.ts';

/** Every APNs reason the adapter's table knows, with the HTTP status Apple sends it with. */
export const APNS_FAILURES = {
  Unregistered: 410,
  ExpiredToken: 410,
  BadDeviceToken: 400,
  DeviceTokenNotForTopic: 400,
  MissingDeviceToken: 400,
  PayloadTooLarge: 413,
  PayloadEmpty: 400,
  BadCollapseId: 400,
  BadExpirationDate: 400,
  BadPriority: 400,
  BadMessageId: 400,
  InvalidPushType: 400,
  BadTopic: 400,
  MissingTopic: 400,
  TopicDisallowed: 400,
  InvalidProviderToken: 403,
  MissingProviderToken: 403,
  ExpiredProviderToken: 403,
  BadCertificate: 403,
  BadCertificateEnvironment: 403,
  Forbidden: 403,
  TooManyRequests: 429,
  TooManyProviderTokenUpdates: 429,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  Shutdown: 503,
  IdleTimeout: 400,
} as const;

/** An APNs reason, or `stream_reset`: the request's stream is cut without an answer. */
export type ApnsFailureKind = keyof typeof APNS_FAILURES | 'stream_reset';

export interface ApnsRequestRecord {
  token: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakeApns {
  address: '127.0.0.1';
  port: number;
  /** PEM certificate to trust (pass as `ca`). */
  ca: string;
  /** What HERALD_APNS_* would hold: the .p8 key (PEM) the fake verifies tokens against. */
  credentials: { key: string; keyId: string; teamId: string; bundleId: string };
  requests: ApnsRequestRecord[];
  /** What the fake found wrong with a request. Tests expect it empty. */
  violations: string[];
  /** HTTP/2 connections accepted so far, and how many are still open. */
  connections(): { total: number; open: number };
  /** Fails every request for `token` with `kind`, or only its next `times` requests, answering 200 after. */
  failToken(token: string, kind: ApnsFailureKind, options?: { times?: number }): void;
  /** Holds every answer for `ms` (0 to stop). */
  delay(ms: number): void;
  /** Closes every open connection at once, streams in flight included; the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

interface Expected {
  publicKey: KeyObject;
  keyId: string;
  teamId: string;
  bundleId: string;
  /**
   * Tokens whose signature checked out. A provider reuses one token for up to an hour, so the
   * ES256 verification is done once per token, not once per push (it was most of this fake's
   * CPU in the benchmark, on the cores Herald shares with it). Header and claims are still
   * checked on every request.
   */
  verified: Set<string>;
}

function jwtProblem(authorization: string | undefined, expected: Expected): string | undefined {
  const match = /^bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(authorization ?? '');
  if (!match) return 'authorization is not "bearer <jwt>"';
  const [, header = '', claims = '', signature = ''] = match;
  const h = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: string; kid?: string };
  const c = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { iss?: string; iat?: number };
  if (h.alg !== 'ES256' || h.kid !== expected.keyId) return 'jwt header';
  if (c.iss !== expected.teamId || typeof c.iat !== 'number') return 'jwt claims';
  const token = `${header}.${claims}.${signature}`;
  if (expected.verified.has(token)) return undefined;
  const signed = Buffer.from(`${header}.${claims}`);
  const sig = Buffer.from(signature, 'base64url');
  const valid = verify('sha256', signed, { key: expected.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  if (!valid) return 'jwt signature';
  if (expected.verified.size >= 1_000) expected.verified.clear();
  expected.verified.add(token);
  return undefined;
}

function requestProblem(headers: IncomingHttpHeaders, body: unknown, expected: Expected): string | undefined {
  if (headers[':method'] !== 'POST') return `method ${headers[':method']}`;
  if (!/^\/3\/device\/[0-9a-fA-F]+$/.test(headers[':path'] ?? '')) return `path ${headers[':path']}`;
  if (headers['apns-topic'] !== expected.bundleId) return 'apns-topic';
  const type = headers['apns-push-type'];
  if (type !== 'alert' && type !== 'background') return 'apns-push-type';
  if (!['5', '10'].includes(String(headers['apns-priority']))) return 'apns-priority';
  const aps = (body as { aps?: { alert?: { title?: unknown; body?: unknown }; sound?: unknown; badge?: unknown; 'content-available'?: unknown } } | undefined)?.aps;
  if (type === 'background') {
    // Apple's "Pushing background updates to your App": priority 5 (10 is an error), an aps with
    // content-available 1 and no alert, sound or badge.
    if (headers['apns-priority'] !== '5') return 'apns-priority of a background push';
    if (aps?.['content-available'] !== 1 || aps.alert !== undefined || aps.sound !== undefined || aps.badge !== undefined) return 'body.aps of a background push';
    return jwtProblem(headers.authorization, expected);
  }
  const alert = aps?.alert;
  if (typeof alert?.title !== 'string' || typeof alert.body !== 'string') return 'body.aps.alert';
  return jwtProblem(headers.authorization, expected);
}

function answer(stream: ServerHttp2Stream, status: number, body?: object, apnsId?: string): void {
  if (stream.destroyed || stream.closed) return;
  const headers: Record<string, string | number> = { ':status': status, 'apns-id': apnsId ?? randomUUID() };
  if (body) headers['content-type'] = 'application/json';
  stream.respond(headers);
  stream.end(body ? JSON.stringify(body) : undefined);
}

async function readJson(stream: ServerHttp2Stream): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startFakeApns(options: { bundleId?: string } = {}): Promise<FakeApns> {
  const { key, cert } = createSelfSignedCert(['localhost', '127.0.0.1']);
  const signing = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const credentials = {
    key: signing.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyId: 'FAKEKEY123',
    teamId: 'FAKETEAM12',
    bundleId: options.bundleId ?? 'com.example.herald',
  };
  const expected: Expected = { ...credentials, publicKey: signing.publicKey, verified: new Set() };
  const failures = new Map<string, { kind: ApnsFailureKind; left?: number }>();
  const sessions = new Set<Http2Session>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: ApnsRequestRecord[] = [];
  const violations: string[] = [];
  let delayMs = 0;
  let total = 0;

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(() => (timers.delete(t), resolve()), ms);
      timers.add(t);
    });

  async function handle(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): Promise<void> {
    const body = await readJson(stream);
    const token = (headers[':path'] ?? '').split('/').pop() ?? '';
    requests.push({ token, path: headers[':path'] ?? '', headers, body });
    if (delayMs > 0) await wait(delayMs);
    const problem = requestProblem(headers, body, expected);
    const apnsId = headers['apns-id'] as string | undefined;
    if (problem) {
      violations.push(problem);
      return answer(stream, 400, { reason: 'BadRequest' }, apnsId);
    }
    const failure = failures.get(token);
    if (failure?.left !== undefined && --failure.left <= 0) failures.delete(token);
    const kind = failure?.kind;
    if (kind === 'stream_reset') return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    if (!kind) return answer(stream, 200, undefined, apnsId);
    const status = APNS_FAILURES[kind];
    answer(stream, status, status === 410 ? { reason: kind, timestamp: Date.now() } : { reason: kind }, apnsId);
  }

  const server = http2.createSecureServer({ key, cert });
  server.on('session', (session) => {
    total += 1;
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    // A stream we reset on purpose, or one the client cancelled, reports an error: expected here.
    stream.on('error', () => undefined);
    handle(stream, headers).catch(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    address: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    ca: cert,
    credentials,
    requests,
    violations,
    connections: () => ({ total, open: sessions.size }),
    failToken: (token, kind, options = {}) => void failures.set(token, { kind, ...(options.times !== undefined ? { left: options.times } : {}) }),
    delay: (ms) => void (delayMs = ms),
    dropConnections: () => {
      for (const session of sessions) session.destroy();
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const session of sessions) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
