/**
 * APNs token-auth configuration from the environment. None of the variables set means "no APNs"
 * (the channel falls back to the sandbox, decided by the caller); some but not all set is a
 * start-up error naming what is missing, because a half-configured push channel would silently
 * drop every iOS notification.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../../configError.ts';
import { callTimeoutFrom } from '../callTimeout.ts';

export const APNS_ENV = {
  keyFile: 'HERALD_APNS_KEY_FILE',
  key: 'HERALD_APNS_KEY',
  keyId: 'HERALD_APNS_KEY_ID',
  teamId: 'HERALD_APNS_TEAM_ID',
  bundleId: 'HERALD_APNS_BUNDLE_ID',
  production: 'HERALD_APNS_PRODUCTION',
} as const;
/** Apart from APNS_ENV: set alone it configures nothing, so it does not make APNs "partly configured". */
export const APNS_TIMEOUT_VAR = 'HERALD_APNS_TIMEOUT_MS';
/** node-apn's own default. */
export const APNS_DEFAULT_TIMEOUT_MS = 5_000;

/** Holds the signing key: pass it to the provider, never to a logger. */
export interface ApnsConfig {
  /** PEM text of the .p8 key (PKCS#8, P-256). */
  key: string;
  keyId: string;
  teamId: string;
  /** Sent as apns-topic. */
  bundleId: string;
  /** false: api.sandbox.push.apple.com (development builds); true: api.push.apple.com. */
  production: boolean;
  /** How long one message's request may go unanswered (HERALD_APNS_TIMEOUT_MS); default APNS_DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
}

const WHERE =
  'Create a key with the Apple Push Notifications service enabled in the Apple Developer account ' +
  '(Certificates, Identifiers & Profiles → Keys); see docs/providers/apns.md.';

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function readKey(env: NodeJS.ProcessEnv): string {
  const path = value(env, APNS_ENV.keyFile);
  // Env files often carry a PEM on one line with literal "\n".
  if (!path) return (value(env, APNS_ENV.key) ?? '').replace(/\\n/g, '\n');
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(`${APNS_ENV.keyFile} points at "${path}", which cannot be read (${code}). ${WHERE}`);
  }
}

function checkKey(pem: string, source: string): void {
  let curve: string | undefined;
  try {
    curve = createPrivateKey(pem).asymmetricKeyDetails?.namedCurve;
  } catch {
    // The parser's message could quote key material: say only where it came from.
    throw new ConfigError(`${source} does not hold a PEM private key (the .p8 file from Apple). ${WHERE}`);
  }
  if (curve !== 'prime256v1') {
    throw new ConfigError(`${source} is not an APNs key: Apple's .p8 keys are EC P-256. ${WHERE}`);
  }
}

function parseProduction(raw: string | undefined): boolean {
  if (raw === undefined || raw.toLowerCase() === 'false') return false;
  if (raw.toLowerCase() === 'true') return true;
  throw new ConfigError(`${APNS_ENV.production} must be "true" or "false" (got "${raw}"); leave it unset for the sandbox host.`);
}

function missingVariables(env: NodeJS.ProcessEnv): string[] {
  const missing: string[] = [];
  if (!value(env, APNS_ENV.keyFile) && !value(env, APNS_ENV.key)) missing.push(`${APNS_ENV.keyFile} (or ${APNS_ENV.key})`);
  for (const name of [APNS_ENV.keyId, APNS_ENV.teamId, APNS_ENV.bundleId]) {
    if (!value(env, name)) missing.push(name);
  }
  return missing;
}

export function loadApnsConfig(env: NodeJS.ProcessEnv): ApnsConfig | undefined {
  const timeoutMs = callTimeoutFrom(env, APNS_TIMEOUT_VAR, APNS_DEFAULT_TIMEOUT_MS, 'one request to APNs (one notification)');
  if (Object.values(APNS_ENV).every((name) => value(env, name) === undefined)) return undefined;
  const missing = missingVariables(env);
  if (missing.length > 0) {
    throw new ConfigError(`APNs is partly configured; also set ${missing.join(', ')}, or unset all HERALD_APNS_* variables to use the sandbox. ${WHERE}`);
  }
  if (value(env, APNS_ENV.keyFile) && value(env, APNS_ENV.key)) {
    throw new ConfigError(`Set only one of ${APNS_ENV.keyFile} and ${APNS_ENV.key}.`);
  }
  const key = readKey(env);
  checkKey(key, value(env, APNS_ENV.keyFile) ? APNS_ENV.keyFile : APNS_ENV.key);
  for (const name of [APNS_ENV.keyId, APNS_ENV.teamId]) {
    if (!/^[A-Z0-9]{10}$/.test(value(env, name) ?? '')) {
      throw new ConfigError(`${name} must be the 10-character identifier shown in the Apple Developer account. ${WHERE}`);
    }
  }
  return {
    key,
    keyId: value(env, APNS_ENV.keyId)!,
    teamId: value(env, APNS_ENV.teamId)!,
    bundleId: value(env, APNS_ENV.bundleId)!,
    production: parseProduction(value(env, APNS_ENV.production)),
    timeoutMs,
  };
}
