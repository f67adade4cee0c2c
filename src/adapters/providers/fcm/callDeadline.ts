/**
 * A deadline for one sendEach call over the http1 transport, through the one seam firebase-admin
 * offers: the `httpAgent` its HTTP requests go through. Its HttpClient takes neither a retry
 * configuration nor a timeout from us (firebase-admin-node#1615): each request gets 15 s, and a
 * 503 is retried four times, each after its Retry-After of up to 60 s, so an outage holds a call
 * for about four minutes. The call is raced against the deadline; past it, its requests still
 * open are cut and any retry it starts later is refused before it is written, so a given-up call
 * sends nothing more (a message Herald retries must not also go out with the SDK's own retry a
 * minute later).
 *
 * Requests are told apart by the async context they were made in: everything the SDK does for a
 * call, its retries after a timer included, runs in the context `withinDeadline` opened for it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';
import { parseRetryAfter } from '../retryAfter.ts';

/** Not among the SDK's retried codes (ECONNRESET, ETIMEDOUT): a cut request ends its message's retries. */
export const CALL_DEADLINE_CODE = 'ERR_FCM_CALL_PAST_DEADLINE';

class CallDeadlineError extends Error {
  readonly code = CALL_DEADLINE_CODE;
}

interface CallScope {
  expired: boolean;
  open: Set<ClientRequest>;
  /** The latest Retry-After FCM sent during the call, in ms. */
  retryAfterMs?: number;
}

const scopes = new AsyncLocalStorage<CallScope>();

type CreateConnection = (options: object, callback: (err: Error | null, socket: Duplex) => void) => Duplex | undefined;

/**
 * The http1 pool. `connect`, when given, opens its connections (a test's or the benchmark's agent
 * routing them to a local fake); else they go where the SDK asks, like any https.Agent's.
 */
export class DeadlineAgent extends HttpsAgent {
  constructor(options: AgentOptions, private readonly connect?: HttpsAgent) {
    super(options);
  }

  override createConnection(options: object, callback: (err: Error | null, socket: Duplex) => void): Duplex | undefined {
    const opener = (this.connect ?? HttpsAgent.prototype) as unknown as { createConnection: CreateConnection };
    return opener.createConnection.call(this.connect ?? this, options, callback);
  }

  /**
   * Node's Agent hands every request of the pool through here, synchronously while the request
   * is made (so in its caller's async context) and before a byte of it is written.
   */
  addRequest(request: ClientRequest, options: object): void {
    const scope = scopes.getStore();
    if (scope?.expired) {
      // Not yet given a socket: nothing is sent, and the SDK sees an error it does not retry.
      process.nextTick(() => request.destroy(new CallDeadlineError('the sendEach call is past its deadline: no more attempts')));
      return;
    }
    if (scope) {
      scope.open.add(request);
      request.once('close', () => scope.open.delete(request));
      request.once('response', (response: IncomingMessage) => {
        const retryAfterMs = parseRetryAfter(response.headers['retry-after']);
        if (retryAfterMs !== undefined) scope.retryAfterMs = retryAfterMs;
      });
    }
    (HttpsAgent.prototype as unknown as { addRequest(r: ClientRequest, o: object): void }).addRequest.call(this, request, options);
  }
}

export type Bounded<T> = { settled: true; value: T; retryAfterMs?: number } | { settled: false; retryAfterMs?: number };

/**
 * Runs `call` with a deadline of `ms`. Settled: its value, with the last Retry-After FCM sent
 * (the SDK drops it). Not settled: what is known, with the call's requests through a
 * DeadlineAgent cut and their retries refused.
 */
export async function withinDeadline<T>(ms: number, call: () => Promise<T>): Promise<Bounded<T>> {
  const scope: CallScope = { expired: false, open: new Set() };
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), ms);
  });
  const retryAfter = () => (scope.retryAfterMs === undefined ? {} : { retryAfterMs: scope.retryAfterMs });
  try {
    const outcome = await Promise.race([scopes.run(scope, call).then((value) => ({ value })), expired]);
    if (outcome !== 'expired') return { settled: true, value: outcome.value, ...retryAfter() };
    scope.expired = true;
    for (const request of scope.open) request.destroy(new CallDeadlineError(`the sendEach call is past its deadline of ${ms} ms`));
    return { settled: false, ...retryAfter() };
  } finally {
    clearTimeout(timer);
  }
}
