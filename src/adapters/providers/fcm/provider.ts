/**
 * FCM delivery through firebase-admin (HTTP v1). One firebase App per provider instance, i.e.
 * per credential set, created here and deleted in close(); never one per send.
 */
import type { Agent as HttpsAgent } from 'node:https';
import { cert, deleteApp, initializeApp, type Credential } from 'firebase-admin/app';
import { getMessaging, type BatchResponse, type Message, type Messaging } from 'firebase-admin/messaging';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../../ports/deliveryProvider.ts';
import type { Logger } from '../../../ports/logger.ts';
import { maskSecret } from '../../../mask.ts';
import { FCM_DEFAULT_MAX_SOCKETS, FCM_DEFAULT_TIMEOUT_MS, FCM_DEFAULT_TRANSPORT, type FcmConfig } from './config.ts';
import { DeadlineAgent } from './callDeadline.ts';
import { withinDeadline } from '../../../withinDeadline.ts';
import { mapFcmError } from './errors.ts';
import { isFcmMessage, toFcmMessage } from './message.ts';

/** sendEach() refuses more than 500 messages per call. */
export const FCM_MAX_BATCH_SIZE = 500;

export interface FcmProviderOptions {
  /**
   * Test seam for the http1 transport: the agent whose createConnection opens the connections
   * (one that routes them to a local fake), its maxSockets the pool's size. Without it, http1 uses
   * a pool of `maxSockets` kept-alive connections to Google. The http2 transport ignores it: the SDK opens its own HTTP/2 connection to the fixed
   * fcm.googleapis.com, which tests reroute in test/fakes/fcmServer.ts.
   */
  httpAgent?: HttpsAgent;
  /** Replaces the service-account OAuth exchange, so no token request leaves the machine. */
  credential?: Credential;
}

/** Distinguishes apps when several providers live in one process (tests, hot reload). */
let appCount = 0;

type Indexed = { index: number; message: Message; to: string; notificationId: string };

/** One firebase app: one per provider, but on http1 a new one after a call passes its deadline (callDeadline.ts). */
interface FcmApp {
  messaging: Messaging;
  /** The http1 pool; absent on http2. */
  agent?: DeadlineAgent;
  close(): Promise<void>;
}

export function createFcmProvider(
  config: FcmConfig,
  logger: Logger,
  options: FcmProviderOptions = {},
): DeliveryProvider {
  const transport = config.transport ?? FCM_DEFAULT_TRANSPORT;
  const log = logger.child({ provider: 'fcm', projectId: config.projectId, transport });
  // http1: every call reuses the pool's connections (the OAuth token exchange goes through it too).
  const maxSockets = options.httpAgent?.maxSockets ?? config.maxSockets ?? FCM_DEFAULT_MAX_SOCKETS;
  const openApp = (): FcmApp => {
    appCount += 1;
    const agent = transport === 'http1' ? new DeadlineAgent({ keepAlive: true, maxSockets }, options.httpAgent) : undefined;
    const app = initializeApp(
      {
        credential: options.credential ?? cert(config, agent),
        projectId: config.projectId,
        ...(agent ? { httpAgent: agent } : {}),
      },
      `herald-fcm-${config.projectId}-${appCount}`,
    );
    const messaging = getMessaging(app);
    // The SDK marks its HTTP/1.1 transport deprecated; it is the one that can reuse connections
    // across calls (its HTTP/2 one opens a connection per sendEach call). See docs/providers/fcm.md.
    if (transport === 'http1') messaging.enableLegacyHttpTransport();
    return { messaging, ...(agent ? { agent } : {}), close: () => deleteApp(app).finally(() => agent?.destroy()) };
  };
  /** The app calls go through; on http1 replaced by a new one when a call passes its deadline. */
  let current = openApp();
  const retired: Promise<void>[] = [];
  if (transport === 'http1') {
    log.info({ maxSockets: options.httpAgent ? 'given' : (config.maxSockets ?? FCM_DEFAULT_MAX_SOCKETS) }, 'fcm over HTTP/1.1: a pool of kept-alive connections, reused by every call');
  } else {
    log.info({}, 'fcm over HTTP/2, the SDK\'s own transport: one new connection per sendEach call');
  }
  let closing: Promise<void> | undefined;

  function logResult(item: Indexed, result: DeliveryResult): void {
    if (result.status === 'sent') return;
    const fields = { notificationId: item.notificationId, token: maskSecret(item.to), result };
    if (result.status === 'rejected') log.info(fields, 'fcm rejected a message');
    else log.warn(fields, 'fcm delivery failed');
  }

  async function sendChunk(chunk: readonly DeliveryMessage[]): Promise<DeliveryResult[]> {
    const results: (DeliveryResult | undefined)[] = chunk.map(precheck);
    const items: Indexed[] = [];
    chunk.forEach((m, index) => {
      if (!results[index] && isFcmMessage(m)) {
        items.push({ index, message: toFcmMessage(m), to: m.to, notificationId: m.notificationId });
      }
    });
    if (items.length > 0) {
      const callTimeoutMs = config.timeoutMs ?? FCM_DEFAULT_TIMEOUT_MS;
      const used = current;
      const started = performance.now();
      const settled = await withinDeadline(callTimeoutMs, sendEach(used.messaging, items));
      const retryAfterMs = used.agent?.retryAfterSince(started);
      if (!settled) {
        const pool = used === current ? used.agent : undefined;
        log.warn({ messages: items.length, afterMs: callTimeoutMs, retryAfterMs, retiresPool: pool !== undefined }, 'fcm: a sendEach call did not settle in time (FCM unavailable while the SDK waits out its Retry-After, or a connection lost mid-call); its messages fail as timeout and are retried, so some may arrive twice');
        // Its retries are refused from here on; the other calls through the same pool end as connection errors, also retried.
        if (pool) {
          current = openApp();
          pool.retire(`a sendEach call passed its deadline of ${callTimeoutMs} ms`);
          retired.push(used.close().catch(() => undefined));
        }
      }
      const mapped = settled
        ? settled.value.map((r) => withRetryAfter(r, retryAfterMs))
        : items.map((): DeliveryResult => withRetryAfter({ status: 'failed', reason: 'timeout', detail: `sendEach unsettled after ${callTimeoutMs} ms` }, retryAfterMs));
      items.forEach((item, i) => {
        const result = mapped[i] ?? { status: 'failed', reason: 'missing_response' };
        results[item.index] = result;
        logResult(item, result);
      });
    }
    const done = results.map((r): DeliveryResult => r ?? { status: 'failed', reason: 'missing_response' });
    log.debug({ batch: chunk.length, sent: done.filter((r) => r.status === 'sent').length }, 'fcm batch done');
    return done;
  }

  return {
    id: 'fcm',
    route: 'fcm',
    maxBatchSize: FCM_MAX_BATCH_SIZE,
    // Far under FCM's default project quota (600,000 messages a minute); one sendEach call
    // already multiplexes up to 100 concurrent streams.
    limits: { concurrency: 4, ratePerSecond: 5_000 },
    callBoundMs: config.timeoutMs ?? FCM_DEFAULT_TIMEOUT_MS,
    async send(messages) {
      if (closing) throw new Error('fcm provider is closed');
      const results: DeliveryResult[] = [];
      for (let i = 0; i < messages.length; i += FCM_MAX_BATCH_SIZE) {
        results.push(...(await sendChunk(messages.slice(i, i + FCM_MAX_BATCH_SIZE))));
      }
      return results;
    },
    close() {
      closing ??= Promise.all([current.close(), ...retired]).then(() => undefined);
      return closing;
    },
  };
}

/** Problems we can see without asking FCM; undefined means "go ahead and send". */
function precheck(message: DeliveryMessage): DeliveryResult | undefined {
  if (!isFcmMessage(message)) {
    return { status: 'rejected', reason: 'invalid_content', detail: `route ${message.route} sent to fcm` };
  }
  if (message.to.trim() === '') return { status: 'rejected', reason: 'invalid_token', detail: 'empty token' };
  return undefined;
}

/** The failures an unavailable FCM causes, which its Retry-After is about. */
const WAIT_FOR_FCM = new Set(['timeout', 'provider_unavailable']);

/**
 * An unavailable-FCM failure no sooner than the Retry-After FCM sent during the call (the SDK
 * reads it for its own retries and drops it). Per call, not per message: which request it came
 * with is not known, but it is the same service at the same moment.
 */
function withRetryAfter(result: DeliveryResult, retryAfterMs: number | undefined): DeliveryResult {
  if (result.status !== 'failed' || !WAIT_FOR_FCM.has(result.reason) || retryAfterMs === undefined || (result.retryAfterMs ?? 0) >= retryAfterMs) return result;
  return { ...result, retryAfterMs };
}

/** One result per item, in order. Transport failures of the whole call become per-item failures. */
async function sendEach(messaging: Messaging, items: readonly Indexed[]): Promise<DeliveryResult[]> {
  let batch: BatchResponse;
  try {
    batch = await messaging.sendEach(items.map((i) => i.message));
  } catch (error) {
    // An HTTP/2 session error rejects the whole call but still carries the answers it got.
    const pending = (error as { pendingBatchResponse?: Promise<BatchResponse> }).pendingBatchResponse;
    const partial = pending ? await pending.catch(() => undefined) : undefined;
    if (!partial) return items.map(() => mapFcmError(error));
    batch = partial;
  }
  return items.map((_, i) => {
    const response = batch.responses[i];
    if (response?.success && response.messageId) return { status: 'sent', providerMessageId: response.messageId };
    return mapFcmError(response?.error);
  });
}
