/**
 * FCM configuration from the environment: one variable pointing at a Firebase service-account
 * JSON file. Unset means "no FCM" (the channel falls back to the sandbox, decided by the caller);
 * set but unusable is a start-up error, because silently dropping to the sandbox would lose pushes.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../../configError.ts';

export const FCM_CREDENTIALS_VAR = 'HERALD_FCM_CREDENTIALS';

/** Holds the private key: pass it to the provider, never to a logger. */
export interface FcmConfig {
  projectId: string;
  clientEmail: string;
  privateKey: string;
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
  };
}
