/**
 * The one place that reads the environment and picks adapters: embedded (SQLite files under
 * HERALD_DATA_DIR) by default, EventStoreDB and MongoDB in production.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from './configError.ts';
import { unknownSettings } from './settingNames.ts';
import { ROUTES, type Route } from './ports/deliveryProvider.ts';
import type { RateLimit } from './domain/category.ts';
import { DEFAULT_RESEND_DELAY_MS, DEFAULT_RETRY_POLICY, type RetryPolicy } from './processors/retryPolicy.ts';
import { DEFAULT_MAX_SEND_AHEAD_DAYS } from './commands/sendErrors.ts';
import { DEFAULT_MAX_DEVICES_PER_USER } from './commands/users.ts';

const rate = z.coerce.number().min(0).max(1);

const schema = z.object({
  HERALD_DATA_DIR: z.string().default('./data'),
  HERALD_HOST: z.string().default('127.0.0.1'),
  HERALD_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HERALD_API_KEY: z.string().min(16, 'use at least 16 characters').optional(),
  HERALD_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HERALD_EVENT_STORE: z.enum(['embedded', 'eventstoredb']).default('embedded'),
  EVENTSTORE_URL: z.string().optional(),
  HERALD_READ_STORE: z.enum(['embedded', 'mongodb']).default('embedded'),
  MONGODB_URL: z.string().optional(),
  HERALD_MAX_RECIPIENTS: z.coerce.number().int().min(1).max(100_000).default(1000),
  HERALD_MAX_SEND_AHEAD_DAYS: z.coerce.number().int().min(1).max(3660).default(DEFAULT_MAX_SEND_AHEAD_DAYS),
  HERALD_MAX_DEVICES_PER_USER: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_MAX_DEVICES_PER_USER),
  HERALD_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  HERALD_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  HERALD_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
  HERALD_DAILY_SEND_QUOTA: z.coerce.number().int().min(0).default(1_000_000),
  HERALD_KEY_GRACE_SECONDS: z.coerce.number().int().min(0).max(30 * 24 * 3600).default(24 * 3600),
  HERALD_METRICS_TOKEN: z.string().min(16, 'use at least 16 characters').optional(),
  HERALD_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  HERALD_SANDBOX_FAILURE_RATE: rate.default(0),
  HERALD_SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  HERALD_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(1).default(DEFAULT_RETRY_POLICY.baseDelayMs),
  HERALD_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(1).default(DEFAULT_RETRY_POLICY.maxDelayMs),
  HERALD_RESEND_DELAY_MS: z.coerce.number().int().min(0).default(DEFAULT_RESEND_DELAY_MS),
  HERALD_MAX_ATTEMPTS_APNS: z.coerce.number().int().min(1).max(100).default(DEFAULT_RETRY_POLICY.maxAttempts.apns),
  HERALD_MAX_ATTEMPTS_FCM: z.coerce.number().int().min(1).max(100).default(DEFAULT_RETRY_POLICY.maxAttempts.fcm),
  HERALD_MAX_ATTEMPTS_SMS: z.coerce.number().int().min(1).max(100).default(DEFAULT_RETRY_POLICY.maxAttempts.sms),
  HERALD_MAX_ATTEMPTS_EMAIL: z.coerce.number().int().min(1).max(100).default(DEFAULT_RETRY_POLICY.maxAttempts.email),
  HERALD_RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),
  HERALD_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(3600),
  HERALD_RATE_LIMIT_WINDOW: z.enum(['fixed', 'sliding']).default('sliding'),
  HERALD_RATE_LIMIT_OVER: z.enum(['suppress', 'defer']).default('suppress'),
  HERALD_USER_RATE_LIMIT_MAX: z.coerce.number().int().min(1).optional(),
  HERALD_USER_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(86_400),
  HERALD_USER_RATE_LIMIT_WINDOW: z.enum(['fixed', 'sliding']).default('sliding'),
  HERALD_USER_RATE_LIMIT_OVER: z.enum(['suppress', 'defer']).default('suppress'),
  HERALD_WORKER_THREAD: z.enum(['on', 'off']).default('on'),
  HERALD_BACKGROUND_NICE: z.coerce.number().int().min(0).max(19).default(0),
  HERALD_SEMI_SPACE_MB: z.coerce.number().int().min(1).max(1024).default(64),
  HERALD_SCHEDULER_TICK_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  HERALD_STOP_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(20_000),
  HERALD_PROJECTOR_MAX_PAUSE_MS: z.coerce.number().int().min(0).max(5_000).default(250),
  HERALD_DEAD_LETTER_ALERT_THRESHOLD: z.coerce.number().int().min(1).default(100),
  HERALD_ALERT_WEBHOOK_URL: z.url().optional(),
  HERALD_ALERT_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
});

export type Role = 'all' | 'api' | 'worker' | 'projector';
export const ROLES: readonly Role[] = ['all', 'api', 'worker', 'projector'];

export interface Config {
  /** Settings that have no effect as given; logged at start-up. */
  warnings: string[];
  role: Role;
  /** Routes this process delivers (worker and all roles). */
  workerRoutes: Route[];
  dataDir: string;
  host: string;
  port: number;
  apiKey?: string;
  logLevel: string;
  eventStore: { kind: 'embedded'; file: string } | { kind: 'eventstoredb'; url: string };
  readStore: { kind: 'embedded'; file: string } | { kind: 'mongodb'; url: string };
  limits: { maxRecipients: number; bodyLimitBytes: number; ratePerMinute: number; dailySendQuota: number; requestTimeoutMs: number; maxSendAheadDays: number; maxDevicesPerUser: number };
  security: { keyGraceSeconds: number; metricsToken?: string };
  batchWindowMs: number;
  sandbox: { outboxFile: string; failureRate: number; latencyMs: number };
  retry: RetryPolicy;
  /** The per-user rate limit for categories without their own; null when HERALD_RATE_LIMIT_MAX is unset. */
  defaultRateLimit: RateLimit | null;
  /** The per-user limit over every category together (not transactional ones); null when HERALD_USER_RATE_LIMIT_MAX is unset. */
  userRateLimit: RateLimit | null;
  schedulerTickMs: number;
  /**
   * The one deadline of a stop, from the signal, for the HTTP requests and deliveries in flight
   * (HERALD_STOP_TIMEOUT_MS); past it, what is unfinished is logged and handed back, the stores are
   * closed and the exit is 1.
   */
  stopTimeoutMs: number;
  /** The projector's longest pause between batches under load: how far read models may trail the log, to commit more at once. */
  projectorMaxPauseMs: number;
  /** Embedded default only: deliveries and projections on background threads (HERALD_WORKER_THREAD=on). */
  workerThread: boolean;
  /** Niceness of those background threads (0: as the API's); Linux only. */
  backgroundNice: number;
  /**
   * V8 semi-space of those background threads, in MB (their young generation is three times it).
   * Their objects live as long as a delivery or a projector batch is in flight; with V8's default
   * (16 MB) about 45 % of what the delivery thread allocates survives each scavenge and is copied.
   */
  backgroundSemiSpaceMb: number;
  alerts: { deadLetterThreshold: number; webhookUrl?: string; intervalMs: number };
  env: NodeJS.ProcessEnv;
}

/** `--channels push,sms` (or route names apns, fcm) → the routes a worker serves. */
function parseRoutes(channels: string | undefined): Route[] {
  if (!channels) return [...ROUTES];
  const routes = new Set<Route>();
  for (const name of channels.split(',').map((c) => c.trim()).filter(Boolean)) {
    if (name === 'push') ['apns', 'fcm'].forEach((r) => routes.add(r as Route));
    else if ((ROUTES as readonly string[]).includes(name)) routes.add(name as Route);
    else throw new ConfigError(`--channels: unknown channel ${JSON.stringify(name)}; use push, sms, email (or the push routes apns, fcm)`);
  }
  return ROUTES.filter((r) => routes.has(r));
}

/**
 * Settings that do nothing as given: a rate limit's window or overflow rule without its _MAX,
 * which turns the limit on. Start-up says so, rather than leave someone believing a limit holds.
 */
function unusedLimitSettings(env: NodeJS.ProcessEnv): string[] {
  return ['HERALD_RATE_LIMIT', 'HERALD_USER_RATE_LIMIT'].flatMap((prefix) => {
    const set = ['_WINDOW_SECONDS', '_WINDOW', '_OVER'].map((s) => `${prefix}${s}`).filter((name) => env[name] !== undefined);
    return set.length > 0 && env[`${prefix}_MAX`] === undefined ? [`${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set but ${prefix}_MAX is not, so no such limit applies; set ${prefix}_MAX to turn it on`] : [];
  });
}

/** The sandbox's testing aids, when set: forgotten in a shell, they look like a broken provider. */
function sandboxFaults(sandbox: { failureRate: number; latencyMs: number }): string[] {
  return [
    ...(sandbox.failureRate > 0 ? [`HERALD_SANDBOX_FAILURE_RATE=${sandbox.failureRate}: the sandbox fails ${Math.round(sandbox.failureRate * 100)} % of its calls on purpose (a testing aid); unset it to deliver everything`] : []),
    ...(sandbox.latencyMs > 0 ? [`HERALD_SANDBOX_LATENCY_MS=${sandbox.latencyMs}: the sandbox answers ${sandbox.latencyMs} ms late on purpose (a testing aid)`] : []),
  ];
}

export function loadConfig(env: NodeJS.ProcessEnv, role: string = 'all', channels?: string): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration; fix these environment variables:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if (!ROLES.includes(role as Role)) throw new ConfigError(`unknown role ${JSON.stringify(role)}: use one of ${ROLES.join(', ')}`);
  if (e.HERALD_EVENT_STORE === 'eventstoredb' && !e.EVENTSTORE_URL) throw new ConfigError('HERALD_EVENT_STORE=eventstoredb needs EVENTSTORE_URL, e.g. esdb://localhost:2113?tls=false');
  if (e.HERALD_READ_STORE === 'mongodb' && !e.MONGODB_URL) throw new ConfigError('HERALD_READ_STORE=mongodb needs MONGODB_URL, e.g. mongodb://localhost:27017/herald');
  if (e.HERALD_EVENT_STORE === 'embedded' && role !== 'all') {
    throw new ConfigError(`role ${role} needs a shared event store: the embedded store runs as one process (role all); set HERALD_EVENT_STORE=eventstoredb and EVENTSTORE_URL to split roles`);
  }
  const dataDir = resolve(e.HERALD_DATA_DIR);
  return {
    warnings: [...unknownSettings(env), ...unusedLimitSettings(env), ...sandboxFaults({ failureRate: e.HERALD_SANDBOX_FAILURE_RATE, latencyMs: e.HERALD_SANDBOX_LATENCY_MS })],
    role: role as Role,
    workerRoutes: parseRoutes(channels),
    dataDir,
    host: e.HERALD_HOST,
    port: e.HERALD_PORT,
    ...(e.HERALD_API_KEY ? { apiKey: e.HERALD_API_KEY } : {}),
    logLevel: e.HERALD_LOG_LEVEL,
    eventStore: e.HERALD_EVENT_STORE === 'eventstoredb' ? { kind: 'eventstoredb', url: e.EVENTSTORE_URL! } : { kind: 'embedded', file: resolve(dataDir, 'events.db') },
    readStore: e.HERALD_READ_STORE === 'mongodb' ? { kind: 'mongodb', url: e.MONGODB_URL! } : { kind: 'embedded', file: resolve(dataDir, 'read-models.db') },
    limits: { maxRecipients: e.HERALD_MAX_RECIPIENTS, bodyLimitBytes: e.HERALD_BODY_LIMIT_BYTES, ratePerMinute: e.HERALD_RATE_LIMIT_PER_MINUTE, dailySendQuota: e.HERALD_DAILY_SEND_QUOTA, requestTimeoutMs: e.HERALD_REQUEST_TIMEOUT_MS, maxSendAheadDays: e.HERALD_MAX_SEND_AHEAD_DAYS, maxDevicesPerUser: e.HERALD_MAX_DEVICES_PER_USER },
    security: { keyGraceSeconds: e.HERALD_KEY_GRACE_SECONDS, ...(e.HERALD_METRICS_TOKEN ? { metricsToken: e.HERALD_METRICS_TOKEN } : {}) },
    batchWindowMs: e.HERALD_BATCH_WINDOW_MS,
    sandbox: { outboxFile: resolve(dataDir, 'sandbox-outbox.jsonl'), failureRate: e.HERALD_SANDBOX_FAILURE_RATE, latencyMs: e.HERALD_SANDBOX_LATENCY_MS },
    retry: {
      baseDelayMs: e.HERALD_RETRY_BASE_DELAY_MS,
      maxDelayMs: e.HERALD_RETRY_MAX_DELAY_MS,
      resendDelayMs: e.HERALD_RESEND_DELAY_MS,
      maxAttempts: { apns: e.HERALD_MAX_ATTEMPTS_APNS, fcm: e.HERALD_MAX_ATTEMPTS_FCM, sms: e.HERALD_MAX_ATTEMPTS_SMS, email: e.HERALD_MAX_ATTEMPTS_EMAIL },
    },
    schedulerTickMs: e.HERALD_SCHEDULER_TICK_MS,
    stopTimeoutMs: e.HERALD_STOP_TIMEOUT_MS,
    projectorMaxPauseMs: e.HERALD_PROJECTOR_MAX_PAUSE_MS,
    workerThread: e.HERALD_WORKER_THREAD === 'on',
    backgroundNice: e.HERALD_BACKGROUND_NICE,
    backgroundSemiSpaceMb: e.HERALD_SEMI_SPACE_MB,
    defaultRateLimit: e.HERALD_RATE_LIMIT_MAX
      ? { max: e.HERALD_RATE_LIMIT_MAX, windowSeconds: e.HERALD_RATE_LIMIT_WINDOW_SECONDS, window: e.HERALD_RATE_LIMIT_WINDOW, overLimit: e.HERALD_RATE_LIMIT_OVER, appliesToTransactional: false }
      : null,
    userRateLimit: e.HERALD_USER_RATE_LIMIT_MAX
      ? { max: e.HERALD_USER_RATE_LIMIT_MAX, windowSeconds: e.HERALD_USER_RATE_LIMIT_WINDOW_SECONDS, window: e.HERALD_USER_RATE_LIMIT_WINDOW, overLimit: e.HERALD_USER_RATE_LIMIT_OVER, appliesToTransactional: false }
      : null,
    alerts: { deadLetterThreshold: e.HERALD_DEAD_LETTER_ALERT_THRESHOLD, intervalMs: e.HERALD_ALERT_CHECK_INTERVAL_MS, ...(e.HERALD_ALERT_WEBHOOK_URL ? { webhookUrl: e.HERALD_ALERT_WEBHOOK_URL } : {}) },
    env,
  };
}
