/**
 * Every call to EventStoreDB ends within a deadline. The SDK gives one (`defaultDeadline`, 10 s) to
 * its unary calls only: its reads run with none by design (kurrent-io/KurrentDB-Client-NodeJS#262),
 * and the server-features call it makes first on each new connection, which appends, group calls
 * and persistent subscriptions await, has none either. After a reconnect to a node that takes the
 * TCP connection and never answers, those waited for ever, and a delivery worker with them.
 */
import { EventStoreUnavailableError } from '../../../ports/eventStore.ts';
import { withinDeadline } from '../../../withinDeadline.ts';

/** The SDK's own default for `defaultDeadline`. */
export const CALL_DEADLINE_MS = 10_000;

/**
 * The deadline EVENTSTORE_URL asks for with the SDK's `defaultDeadline` parameter (milliseconds),
 * so that one setting bounds the SDK's unary calls and this adapter's reads alike; else 10 s.
 */
export function callDeadlineOf(connectionString: string): number {
  const match = /[?&]defaultDeadline=(\d+)/i.exec(connectionString);
  const ms = match ? Number(match[1]) : Number.NaN;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : CALL_DEADLINE_MS;
}

/** A call past its deadline: the port's "not now", which callers ride out as an outage. */
export class NoAnswerError extends EventStoreUnavailableError {
  constructor(
    readonly ms: number,
    what: string,
  ) {
    super(`EventStoreDB did not answer within ${ms / 1000} s to ${what}`);
  }
}

/** The call's value, or a NoAnswerError after `ms`; the call itself is left to the SDK's deadline, if it has one. */
export async function answerWithin<T>(ms: number, what: string, call: Promise<T>): Promise<T> {
  call.catch(() => undefined); // rejecting after the deadline, it is nobody's to handle
  const answered = await withinDeadline(ms, call);
  if (!answered) throw new NoAnswerError(ms, what);
  return answered.value;
}

/** A read from the SDK: iterable, and cancellable (its gRPC call ends, and the SDK opens a fresh connection). */
export interface CancellableRead<T> extends AsyncIterable<T> {
  cancel(): Promise<void>;
}

/**
 * Reads to the end, handing each item to `each`; a NoAnswerError when `ms` pass without the next
 * item or the end, and the read is cancelled. The deadline is per answer, not for the whole read,
 * so that a long read that keeps coming is never cut.
 */
export async function readWithin<T>(ms: number, what: string, read: CancellableRead<T>, each: (item: T) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new NoAnswerError(ms, what));
      read.cancel().catch(() => undefined);
    }, ms);
  });
  const reading = (async () => {
    for await (const item of read) {
      timer?.refresh();
      each(item);
    }
  })();
  reading.catch(() => undefined); // cancelled after the deadline
  try {
    await Promise.race([reading, silent]);
  } finally {
    clearTimeout(timer);
  }
}
