/**
 * Twilio settings from the environment. Nothing set means "no Twilio" (the SMS channel falls back
 * to the sandbox, decided by the caller); anything set means the operator wants Twilio, so a
 * half-finished setup fails start-up with a message that names what is missing instead of
 * silently sending SMS nowhere. Messages name variables, never their values: these are secrets.
 */
import { z } from 'zod';
import { ConfigError } from '../../../configError.ts';
import { callTimeoutFrom } from '../callTimeout.ts';

export type TwilioAuth =
  | { kind: 'authToken'; authToken: string }
  | { kind: 'apiKey'; apiKey: string; apiSecret: string };

export type TwilioSender = { kind: 'messagingService'; sid: string } | { kind: 'from'; from: string };

export interface TwilioConfig {
  accountSid: string;
  auth: TwilioAuth;
  sender: TwilioSender;
  statusCallbackUrl?: string;
  /** Replaces https://api.twilio.com, for fakes and recording proxies in tests and benchmarks. */
  baseUrl?: string;
  ratePerSecond: number;
  /** How long one message's request may take (HERALD_TWILIO_TIMEOUT_MS). */
  timeoutMs: number;
}

export const TWILIO_TIMEOUT_VAR = 'HERALD_TWILIO_TIMEOUT_MS';

const VARS = {
  accountSid: 'HERALD_TWILIO_ACCOUNT_SID',
  authToken: 'HERALD_TWILIO_AUTH_TOKEN',
  apiKey: 'HERALD_TWILIO_API_KEY',
  apiSecret: 'HERALD_TWILIO_API_SECRET',
  messagingServiceSid: 'HERALD_TWILIO_MESSAGING_SERVICE_SID',
  from: 'HERALD_TWILIO_FROM',
  statusCallbackUrl: 'HERALD_TWILIO_STATUS_CALLBACK_URL',
  baseUrl: 'HERALD_TWILIO_BASE_URL',
  ratePerSecond: 'HERALD_TWILIO_RATE_PER_SECOND',
} as const;
type Key = keyof typeof VARS;

/**
 * A single long code sends one segment per second (Twilio queues the rest, up to 10 hours' worth);
 * a messaging service spreads over its sender pool, so it gets a higher default.
 */
const DEFAULT_RATE = { from: 1, messagingService: 10 } as const;
export const TWILIO_DEFAULT_TIMEOUT_MS = 10_000;

const sid = (prefix: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-fA-F]{32}$`));
const schema = z.object({
  accountSid: sid('AC'),
  authToken: z.string().min(16).optional(),
  apiKey: sid('SK').optional(),
  apiSecret: z.string().min(16).optional(),
  messagingServiceSid: sid('MG').optional(),
  from: z.e164().optional(),
  statusCallbackUrl: z.url({ protocol: /^https?$/ }).optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  ratePerSecond: z.coerce.number().positive().max(10_000).optional(),
});

const HINTS: Record<Key, string> = {
  accountSid: 'the Account SID (AC…) from the Twilio Console dashboard',
  authToken: 'the Auth Token from the Twilio Console dashboard',
  apiKey: 'an API key SID (SK…) from Console → Account → API keys',
  apiSecret: 'the secret shown once when the API key was created',
  messagingServiceSid: 'a Messaging Service SID (MG…)',
  from: 'an E.164 number such as +15005550006',
  statusCallbackUrl: 'an http(s) URL',
  baseUrl: 'an http(s) URL',
  ratePerSecond: 'a positive number',
};

function readEnv(env: NodeJS.ProcessEnv): Partial<Record<Key, string>> {
  const raw: Partial<Record<Key, string>> = {};
  for (const key of Object.keys(VARS) as Key[]) {
    const value = env[VARS[key]]?.trim();
    if (value) raw[key] = value;
  }
  return raw;
}

function fail(problems: string[]): never {
  throw new ConfigError(
    `Twilio configuration is incomplete or invalid: ${problems.join('; ')}. Set the required ` +
      'HERALD_TWILIO_* variables (see docs/providers/twilio.md), or unset them all to use the SMS sandbox.',
  );
}

type Raw = Partial<Record<Key, string>>;
type Picked<T> = { value: T; problem?: undefined } | { value?: undefined; problem: string };

function pickAuth({ authToken, apiKey, apiSecret }: Raw): Picked<TwilioAuth> {
  if (authToken && (apiKey || apiSecret)) {
    return { problem: `set either ${VARS.authToken} or ${VARS.apiKey} + ${VARS.apiSecret}, not both` };
  }
  if (authToken) return { value: { kind: 'authToken', authToken } };
  if (apiKey && apiSecret) return { value: { kind: 'apiKey', apiKey, apiSecret } };
  if (apiKey || apiSecret) return { problem: `${apiKey ? VARS.apiSecret : VARS.apiKey} is missing` };
  return { problem: `${VARS.authToken} (or ${VARS.apiKey} + ${VARS.apiSecret}) is missing` };
}

function pickSender({ messagingServiceSid, from }: Raw): Picked<TwilioSender> {
  if (messagingServiceSid && from) {
    return { problem: `set either ${VARS.messagingServiceSid} or ${VARS.from}, not both` };
  }
  if (messagingServiceSid) return { value: { kind: 'messagingService', sid: messagingServiceSid } };
  if (from) return { value: { kind: 'from', from } };
  return { problem: `${VARS.messagingServiceSid} or ${VARS.from} is missing` };
}

export function loadTwilioConfig(env: NodeJS.ProcessEnv): TwilioConfig | undefined {
  const timeoutMs = callTimeoutFrom(env, TWILIO_TIMEOUT_VAR, TWILIO_DEFAULT_TIMEOUT_MS, 'one request to Twilio (one SMS)');
  const raw = readEnv(env);
  if (Object.keys(raw).length === 0) return undefined;
  const auth = pickAuth(raw);
  const sender = pickSender(raw);
  const parsed = schema.safeParse(raw);
  const problems = [
    ...(raw.accountSid ? [] : [`${VARS.accountSid} is missing (${HINTS.accountSid})`]),
    ...[auth.problem, sender.problem].filter((problem) => problem !== undefined),
    ...(parsed.success ? [] : invalidVariables(parsed.error.issues, raw)),
  ];
  if (problems.length > 0 || !parsed.success || !auth.value || !sender.value) fail(problems);
  return {
    accountSid: parsed.data.accountSid,
    auth: auth.value,
    sender: sender.value,
    statusCallbackUrl: parsed.data.statusCallbackUrl,
    baseUrl: parsed.data.baseUrl,
    ratePerSecond: parsed.data.ratePerSecond ?? DEFAULT_RATE[sender.value.kind],
    timeoutMs,
  };
}

/** Names each malformed variable once; a missing one is already reported above. */
function invalidVariables(issues: readonly z.core.$ZodIssue[], raw: Raw): string[] {
  const keys = new Set(issues.map((issue) => issue.path[0] as Key).filter((key) => raw[key] !== undefined));
  return [...keys].map((key) => `${VARS[key]} must be ${HINTS[key]}`);
}
