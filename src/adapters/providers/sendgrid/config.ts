/**
 * SendGrid settings from the environment. Nothing set means "no SendGrid" (the email channel
 * falls back to the sandbox, decided by the caller); a partial setup fails start-up with a
 * message that names the variables, never their values.
 */
import { z } from 'zod';
import { ConfigError } from '../../../configError.ts';
import { callTimeoutFrom } from '../callTimeout.ts';

export interface EmailAddress {
  email: string;
  name?: string;
}

export interface SendgridConfig {
  apiKey: string;
  from: EmailAddress;
  replyTo?: EmailAddress;
  /** Replaces https://api.sendgrid.com, for fakes and recording proxies in tests and benchmarks. */
  baseUrl?: string;
  /** How long one mail/send request may take (HERALD_SENDGRID_TIMEOUT_MS). */
  timeoutMs: number;
}

export const SENDGRID_TIMEOUT_VAR = 'HERALD_SENDGRID_TIMEOUT_MS';

const VARS = {
  apiKey: 'HERALD_SENDGRID_API_KEY',
  from: 'HERALD_SENDGRID_FROM',
  replyTo: 'HERALD_SENDGRID_REPLY_TO',
  baseUrl: 'HERALD_SENDGRID_BASE_URL',
} as const;
type Key = keyof typeof VARS;
type Raw = Partial<Record<Key, string>>;

export const SENDGRID_DEFAULT_TIMEOUT_MS = 10_000;

/** "Name <addr@example.com>" or a bare address; the name may be quoted. */
function parseAddress(text: string): EmailAddress | undefined {
  const named = /^\s*"?([^"<]*?)"?\s*<([^<>\s]+)>\s*$/.exec(text);
  const email = named ? named[2] : text.trim();
  if (!z.email().safeParse(email).success || email === undefined) return undefined;
  const name = named?.[1]?.trim();
  return name ? { email, name } : { email };
}

const address = z.string().transform((text, ctx) => {
  const parsed = parseAddress(text);
  if (!parsed) ctx.addIssue({ code: 'custom', message: 'not an email address' });
  return parsed ?? { email: '' };
});

const schema = z.object({
  // Every SendGrid API key starts with "SG."; the SDK only warns on stderr otherwise.
  apiKey: z.string().startsWith('SG.').min(20),
  from: address,
  replyTo: address.optional(),
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
});

const HINTS: Record<Key, string> = {
  apiKey: 'an API key starting with "SG." (SendGrid → Settings → API Keys, "Mail Send" access)',
  from: 'a verified sender, "news@example.com" or "Herald <news@example.com>"',
  replyTo: 'an email address, optionally "Name <addr>"',
  baseUrl: 'an http(s) URL',
};

function readEnv(env: NodeJS.ProcessEnv): Raw {
  const raw: Raw = {};
  for (const key of Object.keys(VARS) as Key[]) {
    const value = env[VARS[key]]?.trim();
    if (value) raw[key] = value;
  }
  return raw;
}

export function loadSendgridConfig(env: NodeJS.ProcessEnv): SendgridConfig | undefined {
  const timeoutMs = callTimeoutFrom(env, SENDGRID_TIMEOUT_VAR, SENDGRID_DEFAULT_TIMEOUT_MS, 'one mail/send request to SendGrid');
  const raw = readEnv(env);
  if (Object.keys(raw).length === 0) return undefined;
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ...parsed.data, timeoutMs };
  const keys = new Set(parsed.error.issues.map((issue) => issue.path[0] as Key));
  const problems = [...keys].map((key) =>
    raw[key] === undefined ? `${VARS[key]} is missing (${HINTS[key]})` : `${VARS[key]} must be ${HINTS[key]}`,
  );
  throw new ConfigError(
    `SendGrid configuration is incomplete or invalid: ${problems.join('; ')}. Set the required ` +
      'HERALD_SENDGRID_* variables (see docs/providers/sendgrid.md), or unset them all to use the email sandbox.',
  );
}
