/**
 * APNs delivery through @parse/node-apn with token (.p8) authentication. One Provider per
 * provider instance, i.e. per credential set: it keeps a single HTTP/2 connection open and
 * multiplexes every request on it; close() shuts it down after in-flight requests finish.
 */
import apn from '@parse/node-apn';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../../ports/deliveryProvider.ts';
import type { Logger } from '../../../ports/logger.ts';
import { maskSecret } from '../../../mask.ts';
import { APNS_DEFAULT_TIMEOUT_MS, type ApnsConfig } from './config.ts';
import { mapApnsFailure } from './errors.ts';
import { isApnsMessage, isDeviceToken, toNotification } from './notification.ts';

export interface ApnsProviderOptions {
  /**
   * Test seam: another host to connect to, and the CA its certificate is signed by. node-apn
   * accepts these as ordinary options, so tests exercise the same code path as production.
   */
  address?: string;
  port?: number;
  ca?: string[];
}

export const APNS_MAX_BATCH_SIZE = 100;

/** APNs answers about a token that a wrong environment or bundle id gives every token alike. */
const ENVIRONMENT_SENSITIVE = /\b(BadDeviceToken|DeviceTokenNotForTopic)\b/;

type Client = InstanceType<typeof apn.Provider>;

function createClient(config: ApnsConfig, options: ApnsProviderOptions, requestTimeoutMs: number): Client {
  return new apn.Provider({
    token: { key: config.key, keyId: config.keyId, teamId: config.teamId },
    production: config.production,
    // Our processor owns retry policy. Left alone, node-apn resends 429/5xx three times on its
    // own and ignores Retry-After; with 0 it hands back the first answer.
    connectionRetryLimit: 0,
    requestTimeout: requestTimeoutMs,
    ...(options.address ? { address: options.address } : {}),
    ...(options.port ? { port: options.port } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  });
}

/**
 * node-apn's shutdown() waits for in-flight requests, but never calls back when its connection
 * has died of an error (it then waits on close() of an already destroyed HTTP/2 session). No
 * request outlives the request timeout, so that bounds the wait either way.
 */
function shutdown(client: Client, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, graceMs);
    void client.shutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export function createApnsProvider(
  config: ApnsConfig,
  logger: Logger,
  options: ApnsProviderOptions = {},
): DeliveryProvider {
  const log = logger.child({ provider: 'apns', bundleId: config.bundleId, production: config.production });
  const requestTimeoutMs = config.timeoutMs ?? APNS_DEFAULT_TIMEOUT_MS;
  const client = createClient(config, options, requestTimeoutMs);
  let closing: Promise<void> | undefined;
  // See unproven(): APNs has not accepted a token from this configuration yet.
  let proven = false;
  let warnedUnproven = false;

  /**
   * Before APNs has accepted any token from this configuration, its "this token is not valid here"
   * answers may be about us, not the tokens: HERALD_APNS_PRODUCTION on the wrong environment, or
   * another app's bundle id, makes every token BadDeviceToken or DeviceTokenNotForTopic, and
   * rejecting them would invalidate every iOS device of every user. Until one is accepted they are
   * transient failures (retried, tokens kept), with one error line saying what to check.
   */
  function unproven(result: DeliveryResult): DeliveryResult {
    if (result.status !== 'rejected' || !ENVIRONMENT_SENSITIVE.test(result.detail ?? '')) return result;
    if (!warnedUnproven) {
      warnedUnproven = true;
      log.error({ detail: result.detail }, `APNs refuses device tokens (${result.detail}) and has accepted none from this configuration yet: the tokens are kept and these sends retried until APNs accepts one. If it goes on, check HERALD_APNS_PRODUCTION (${config.production ? 'production' : 'sandbox'} now: development builds need the sandbox, TestFlight and App Store builds production) and HERALD_APNS_BUNDLE_ID (${config.bundleId})`);
    }
    return { status: 'failed', reason: 'token_refused_unproven_config', detail: result.detail ?? '' };
  }

  async function sendOne(message: DeliveryMessage): Promise<DeliveryResult> {
    if (!isApnsMessage(message)) {
      return { status: 'rejected', reason: 'invalid_content', detail: `route ${message.route} sent to apns` };
    }
    if (!isDeviceToken(message.to)) return { status: 'rejected', reason: 'invalid_token', detail: 'not a hex device token' };
    const note = toNotification(message, config.bundleId);
    try {
      // node-apn never throws per device: it sorts answers into sent and failed.
      const { sent, failed } = await client.send(note, message.to);
      const ok = sent[0] as { 'apns-id'?: string } | undefined;
      if (ok) return { status: 'sent', providerMessageId: ok['apns-id'] ?? note.id };
      return mapApnsFailure(failed[0] ?? {});
    } catch (error) {
      return mapApnsFailure({ error: error as Error });
    }
  }

  function logResult(message: DeliveryMessage, result: DeliveryResult): void {
    if (result.status === 'sent') return;
    const fields = { notificationId: message.notificationId, token: maskSecret(message.to), result };
    if (result.status === 'rejected') log.info(fields, 'apns rejected a message');
    else log.warn(fields, 'apns delivery failed');
  }

  return {
    id: 'apns',
    route: 'apns',
    maxBatchSize: APNS_MAX_BATCH_SIZE,
    // Every message is one stream on the one connection; 4 × 100 stays well under the
    // concurrent-stream limit APNs announces (typically 1,000). Apple publishes no rate limit.
    limits: { concurrency: 4 },
    // Each request's timeout (an idle time on the connection: a trickling answer can outlast it).
    callBoundMs: requestTimeoutMs,
    async send(messages) {
      if (closing) throw new Error('apns provider is closed');
      const answered = await Promise.all(messages.map(sendOne));
      if (answered.some((r) => r.status === 'sent')) proven = true;
      const results = proven ? answered : answered.map(unproven);
      results.forEach((r, i) => logResult(messages[i]!, r));
      log.debug({ batch: messages.length, sent: results.filter((r) => r.status === 'sent').length }, 'apns batch done');
      return results;
    },
    close() {
      closing ??= shutdown(client, requestTimeoutMs + 500);
      return closing;
    },
  };
}
