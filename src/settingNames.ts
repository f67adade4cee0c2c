/**
 * Every HERALD_* environment variable Herald reads (config.ts and the provider configs), so that
 * start-up can name one it does not know: a misspelt credential (HERALD_FCM_SERVICE_ACCOUNT for
 * HERALD_FCM_CREDENTIALS) otherwise only shows as a route left on the sandbox, and a misspelt limit
 * as no limit at all. test/unit/settingNames.test.ts keeps this list in step with the source.
 */
export const SETTING_NAMES: readonly string[] = [
  'HERALD_ALERT_CHECK_INTERVAL_MS', 'HERALD_ALERT_WEBHOOK_URL', 'HERALD_API_KEY',
  'HERALD_APNS_BUNDLE_ID', 'HERALD_APNS_KEY', 'HERALD_APNS_KEY_FILE', 'HERALD_APNS_KEY_ID', 'HERALD_APNS_PRODUCTION', 'HERALD_APNS_TEAM_ID', 'HERALD_APNS_TIMEOUT_MS',
  'HERALD_BACKGROUND_NICE', 'HERALD_BATCH_WINDOW_MS', 'HERALD_BODY_LIMIT_BYTES', 'HERALD_DAILY_SEND_QUOTA', 'HERALD_DATA_DIR',
  'HERALD_DEAD_LETTER_ALERT_THRESHOLD', 'HERALD_EMAIL_TRACKING', 'HERALD_EVENT_STORE',
  'HERALD_FCM_CREDENTIALS', 'HERALD_FCM_MAX_SOCKETS', 'HERALD_FCM_TIMEOUT_MS', 'HERALD_FCM_TRANSPORT',
  'HERALD_HOST', 'HERALD_KEY_GRACE_SECONDS', 'HERALD_LIST_UNSUBSCRIBE', 'HERALD_LOG_LEVEL',
  'HERALD_MAX_ATTEMPTS_APNS', 'HERALD_MAX_ATTEMPTS_EMAIL', 'HERALD_MAX_ATTEMPTS_FCM', 'HERALD_MAX_ATTEMPTS_SMS', 'HERALD_MAX_DEVICES_PER_USER', 'HERALD_MAX_RECIPIENTS', 'HERALD_MAX_SEND_AHEAD_DAYS',
  'HERALD_METRICS_TOKEN', 'HERALD_PORT', 'HERALD_PROJECTOR_MAX_PAUSE_MS', 'HERALD_PUBLIC_URL',
  'HERALD_RATE_LIMIT_MAX', 'HERALD_RATE_LIMIT_OVER', 'HERALD_RATE_LIMIT_PER_MINUTE', 'HERALD_RATE_LIMIT_WINDOW', 'HERALD_RATE_LIMIT_WINDOW_SECONDS',
  'HERALD_READ_STORE', 'HERALD_REQUEST_TIMEOUT_MS', 'HERALD_RESEND_DELAY_MS', 'HERALD_RETRY_BASE_DELAY_MS', 'HERALD_RETRY_MAX_DELAY_MS',
  'HERALD_SANDBOX_FAILURE_RATE', 'HERALD_SANDBOX_LATENCY_MS', 'HERALD_SCHEDULER_TICK_MS', 'HERALD_SEMI_SPACE_MB',
  'HERALD_SENDGRID_API_KEY', 'HERALD_SENDGRID_BASE_URL', 'HERALD_SENDGRID_FROM', 'HERALD_SENDGRID_REPLY_TO', 'HERALD_SENDGRID_TIMEOUT_MS', 'HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY',
  'HERALD_STOP_TIMEOUT_MS',
  'HERALD_TRACKING_SECRET',
  'HERALD_TWILIO_ACCOUNT_SID', 'HERALD_TWILIO_API_KEY', 'HERALD_TWILIO_API_SECRET', 'HERALD_TWILIO_AUTH_TOKEN', 'HERALD_TWILIO_BASE_URL',
  'HERALD_TWILIO_FROM', 'HERALD_TWILIO_MESSAGING_SERVICE_SID', 'HERALD_TWILIO_RATE_PER_SECOND', 'HERALD_TWILIO_STATUS_CALLBACK_URL', 'HERALD_TWILIO_TIMEOUT_MS', 'HERALD_TWILIO_WEBHOOK_AUTH_TOKEN',
  'HERALD_USER_RATE_LIMIT_MAX', 'HERALD_USER_RATE_LIMIT_OVER', 'HERALD_USER_RATE_LIMIT_WINDOW', 'HERALD_USER_RATE_LIMIT_WINDOW_SECONDS',
  'HERALD_WEBHOOK_MAX_AGE_SECONDS', 'HERALD_WORKER_THREAD',
];

const known = new Set(SETTING_NAMES);

/** Its family: HERALD_FCM_SERVICE_ACCOUNT → HERALD_FCM_ (HERALD_USER_RATE_… and HERALD_RATE_… by their first two words). */
function family(name: string): string {
  const words = name.split('_');
  return words.slice(0, words[1] === 'USER' || words[1] === 'RATE' || words[1] === 'MAX' ? 3 : 2).join('_') + '_';
}

/** A warning for each HERALD_* variable that is set and that Herald does not read, naming the ones it does read of that family. */
export function unknownSettings(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith('HERALD_') && !known.has(name))
    .sort()
    .map((name) => {
      const kin = SETTING_NAMES.filter((k) => k.startsWith(family(name)));
      return `${name} is not a Herald setting and is ignored${kin.length > 0 ? `; did you mean ${kin.length === 1 ? kin[0] : `one of ${kin.join(', ')}`}?` : ' (README, Configuration, lists them)'}`;
    });
}
