/**
 * The bound on one sendEach call, and what lets the http1 transport end a given-up call for good.
 *
 * firebase-admin's HttpClient takes neither a retry configuration nor a timeout from us
 * (firebase-admin-node#1615): each request gets 15 s, and a 503 is retried four times, each after
 * its Retry-After of up to 60 s, so an outage holds a call for about four minutes. The call is
 * raced against the deadline. Past it, on http1, the connection pool the call's app sends through
 * (its `httpAgent`, the one seam the SDK offers) is retired: its requests still open are cut and
 * any retry the SDK starts later is refused before a byte is written, so a given-up call sends
 * nothing more (a message Herald retries must not also go out with the SDK's own retry a minute
 * later). The provider then sends through a new app and pool (provider.ts).
 *
 * Why a pool per app and not per call: telling a call's requests apart (AsyncLocalStorage) turns
 * on async hooks for every promise of the delivery thread on Node 20 (see twilio/client.ts).
 */
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { parseRetryAfter } from '../retryAfter.ts';

/** Not among the SDK's retried codes (ECONNRESET, ETIMEDOUT): a cut request ends its message's retries. */
export const CALL_DEADLINE_CODE = 'ERR_FCM_CALL_PAST_DEADLINE';

class CallDeadlineError extends Error {
  readonly code = CALL_DEADLINE_CODE;
}

type CreateConnection = (options: object, callback: (err: Error | null, socket: Duplex) => void) => Duplex | undefined;

/**
 * The http1 pool of one firebase app. `connect`, when given, opens its connections (a test's or
 * the benchmark's agent routing them to a local fake); else they go where the SDK asks.
 */
export class DeadlineAgent extends HttpsAgent {
  private retired = false;
  private readonly open = new Set<ClientRequest>();
  /** The latest Retry-After FCM sent, in ms, and when it came (performance.now()). */
  private retryAfter?: { ms: number; at: number };

  constructor(options: AgentOptions, private readonly connect?: HttpsAgent) {
    super(options);
  }

  override createConnection(options: object, callback: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const opener = (this.connect ?? HttpsAgent.prototype) as unknown as { createConnection: CreateConnection };
    return opener.createConnection.call(this.connect ?? this, options, callback);
  }

  /** Node's Agent hands every request of the pool through here, before a byte of it is written. */
  addRequest(request: ClientRequest, options: object): void {
    if (this.retired) {
      // Not yet given a socket: nothing is sent, and the SDK sees an error it does not retry.
      process.nextTick(() => request.destroy(new CallDeadlineError('a call through this pool passed its deadline: no more attempts')));
      return;
    }
    this.open.add(request);
    request.once('close', () => this.open.delete(request));
    request.once('response', (response: IncomingMessage) => {
      const ms = parseRetryAfter(response.headers['retry-after']);
      if (ms !== undefined) this.retryAfter = { ms, at: performance.now() };
    });
    (HttpsAgent.prototype as unknown as { addRequest(r: ClientRequest, o: object): void }).addRequest.call(this, request, options);
  }

  /** The latest Retry-After FCM sent since `since` (performance.now()), in ms. */
  retryAfterSince(since: number): number | undefined {
    return this.retryAfter && this.retryAfter.at >= since ? this.retryAfter.ms : undefined;
  }

  /** Cuts every request still open and refuses every later one; then lets its connections go. */
  retire(reason: string): void {
    this.retired = true;
    for (const request of this.open) request.destroy(new CallDeadlineError(reason));
    this.destroy();
  }
}
