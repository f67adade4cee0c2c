/**
 * FCM configuration from the environment: a variable pointing at a Firebase service-account JSON
 * file, and two optional ones for the HTTP transport. Unset credentials mean "no FCM" (the channel
 * falls back to the sandbox, decided by the caller); set but unusable is a start-up error, because
 * silently dropping to the sandbox would lose pushes.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../../configError.ts';
import { callTimeoutFrom } from '../callTimeout.ts';

export const FCM_CREDENTIALS_VAR = 'HERALD_FCM_CREDENTIALS';
export const FCM_TRANSPORT_VAR = 'HERALD_FCM_TRANSPORT';
export const FCM_MAX_SOCKETS_VAR = 'HERALD_FCM_MAX_SOCKETS';
export const FCM_TIMEOUT_VAR = 'HERALD_FCM_TIMEOUT_MS';

/**
 * How firebase-admin reaches FCM. `http1`: HTTP/1.1 over a pool of kept-alive TLS connections,
 * reused by every call. `http2`: the SDK's default, one new HTTP/2 connection (TCP and TLS
 * handshakes) per `sendEach` call, up to 100 streams on it. docs/providers/fcm.md has the
 * measurements behind the default.
 */
export type FcmTransport = 'http1' | 'http2';
export const FCM_TRANSPORTS: readonly FcmTransport[] = ['http1', 'http2'];
export const FCM_DEFAULT_TRANSPORT: FcmTransport = 'http1';
/** Connections the http1 pool keeps at most: at 30 ms a request, 128 carry about 4,000 messages a second. */
export const FCM_DEFAULT_MAX_SOCKETS = 128;
/**
 * How long a sendEach call (up to 500 messages) may stay unsettled before its messages are failed
 * as `timeout` (and retried by Herald, no sooner than a Retry-After FCM sent). On http2,
 * firebase-admin 13.10's call never settles when FCM closes the connection mid-call without an
 * error; on http1, the SDK waits out each 503's Retry-After (up to 60 s) four times over, about
 * four minutes. Either would hold the worker's slot.
 */
export const FCM_DEFAULT_TIMEOUT_MS = 30_000;

/** Holds the private key: pass it to the provider, never to a logger. */
export interface FcmConfig {
  projectId: string;
  clientEmail: string;
  privateKey: string;
  /** Default FCM_DEFAULT_TRANSPORT. */
  transport?: FcmTransport;
  /** Size of the http1 pool; default FCM_DEFAULT_MAX_SOCKETS. */
  maxSockets?: number;
  /** The bound on one sendEach call (HERALD_FCM_TIMEOUT_MS); default FCM_DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

const ServiceAccountFile = z.object({
  project_id: z.string().min(1),
  client_email: z.string().includes('@'),
  private_key: z.string().includes('PRIVATE KEY'),
});

const HOW_TO_FIX =
  'Download a service-account key in the Firebase console (Project settings → Service accounts → ' +
  'Generate new private key) and point the variable at that file, or unset it to use the sandbox.';

function fail(problem: string): never {
  throw new ConfigError(`${FCM_CREDENTIALS_VAR} ${problem}. ${HOW_TO_FIX}`);
}

function transportFrom(env: NodeJS.ProcessEnv): Pick<FcmConfig, 'transport' | 'maxSockets' | 'timeoutMs'> {
  const transport = env[FCM_TRANSPORT_VAR]?.trim() || FCM_DEFAULT_TRANSPORT;
  if (!FCM_TRANSPORTS.includes(transport as FcmTransport)) {
    throw new ConfigError(`${FCM_TRANSPORT_VAR} is "${transport}"; use http1 (a pool of kept-alive connections, the default) or http2 (the SDK's own, one connection per batch).`);
  }
  const sockets = env[FCM_MAX_SOCKETS_VAR]?.trim();
  const maxSockets = sockets ? Number(sockets) : FCM_DEFAULT_MAX_SOCKETS;
  if (!Number.isInteger(maxSockets) || maxSockets < 1 || maxSockets > 10_000) {
    throw new ConfigError(`${FCM_MAX_SOCKETS_VAR} is "${sockets}"; use a whole number of connections from 1 to 10000 (default ${FCM_DEFAULT_MAX_SOCKETS}).`);
  }
  const timeoutMs = callTimeoutFrom(env, FCM_TIMEOUT_VAR, FCM_DEFAULT_TIMEOUT_MS, 'one sendEach call to FCM (up to 500 messages)');
  return { transport: transport as FcmTransport, maxSockets, timeoutMs };
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail(`points at "${path}", which cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message may quote file content, i.e. part of the key: keep it out.
    return fail(`points at "${path}", which is not valid JSON`);
  }
}

export function loadFcmConfig(env: NodeJS.ProcessEnv): FcmConfig | undefined {
  // Checked even without credentials: a mistyped value fails at start-up, not when FCM is turned on.
  const transport = transportFrom(env);
  const path = env[FCM_CREDENTIALS_VAR]?.trim();
  if (!path) return undefined;
  const parsed = ServiceAccountFile.safeParse(readJson(path));
  if (!parsed.success) {
    // Field names only: zod issues can echo the offending value.
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    return fail(`points at "${path}", which is not a service-account key (missing or invalid: ${fields})`);
  }
  try {
    createPrivateKey(parsed.data.private_key);
  } catch {
    return fail(`points at "${path}", whose private_key cannot be parsed as a PEM key`);
  }
  return {
    projectId: parsed.data.project_id,
    clientEmail: parsed.data.client_email,
    privateKey: parsed.data.private_key,
    ...transport,
  };
}
