/**
 * A stop's deadline (HERALD_STOP_TIMEOUT_MS), one for the whole stop, measured from the signal.
 * A stop waits for the HTTP requests and the provider calls under way, so that their outcomes are
 * recorded and no other instance is handed a delivery still being sent; but a provider that never
 * answers (or a client that never finishes its request) would hold it forever, until the
 * supervisor's SIGKILL, which leaves no checkpoint written and no word of what was in flight. Each
 * part gets what is left of the one deadline; past it the stop goes on without what is unfinished:
 * it says what that was, per part, closes the stores (which hands their events back to their
 * groups, to be sent at the next start) and ends in a StopDeadlineError, so the process exits
 * non-zero.
 */
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import { withinDeadline } from './withinDeadline.ts';

/** The parts of a stop that can outlast its deadline. */
export type StopPart = 'http' | 'delivery' | 'projections';

/**
 * How long past the deadline a part may take to close: a background thread its stores (checkpoints
 * written) before it is terminated, the HTTP server its cut connections.
 */
export const STORES_CLOSE_MS = 3_000;
/**
 * What the main thread's own closes get once the threads have had their STORES_CLOSE_MS: the
 * read models' store, whose close checkpoints readmodels.db's WAL (synchronously, on this thread),
 * the event store, and the checkpoint thread's final checkpoint of events.db's WAL (up to its 64 MB
 * fallback when the thread was behind), each an fsync or two. 2 s (what was left of a 5 s
 * backstop) is less than a slow disk can take for those; 5 s keeps the stop, with the default
 * deadline of 20 s, at 28 s: inside Kubernetes' default grace period of 30 s.
 */
export const MAIN_CLOSE_MS = 5_000;
/**
 * How long past the deadline the process waits for its stop before exiting without it (main.ts):
 * the threads' STORES_CLOSE_MS, then the main thread's own stores (MAIN_CLOSE_MS).
 */
export const STOP_BACKSTOP_MS = STORES_CLOSE_MS + MAIN_CLOSE_MS;

export class StopDeadlineError extends Error {
  readonly code = 'stop_deadline_passed';
  constructor(
    readonly deadlineMs: number,
    /** The parts that had not finished at the deadline. */
    readonly unfinished: readonly StopPart[],
    /** Messages still inside a provider's send, by route. */
    readonly inFlight: Partial<Record<Route, number>> = {},
  ) {
    super(`the stop did not finish within its deadline of ${deadlineMs} ms (HERALD_STOP_TIMEOUT_MS): ${unfinished.join(', ')} unfinished`);
  }

  /** The stop's last log line: what was cut, and what becomes of it. */
  summary(): string {
    const fates = [
      'stores closed and checkpoints written',
      ...(this.unfinished.includes('http') ? ['the requests cut got no answer: their clients may send them again (an Idempotency-Key makes that safe)'] : []),
      ...(this.unfinished.includes('delivery') ? ['what was still with a provider is sent again at the next start'] : []),
      ...(this.unfinished.includes('projections') ? ['the read models catch up from their checkpoints at the next start'] : []),
    ];
    return `stopped past the deadline (HERALD_STOP_TIMEOUT_MS) with ${this.unfinished.join(', ')} unfinished: ${fates.join('; ')}`;
  }
}

/** The one deadline of a stop, from its start: every part of the stop gets what is left of it. */
export class StopBudget {
  private readonly end: number;

  constructor(
    readonly deadlineMs: number,
    /** What is left of it now (less than all of it on a thread the stop reached later). */
    leftMs = deadlineMs,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.end = now() + leftMs;
  }

  /** The milliseconds left until the deadline, or until `pastMs` after it; never below 0. */
  left(pastMs = 0): number {
    return Math.max(0, this.end + pastMs - this.now());
  }
}

/** True when `work` settles (either way) within `ms`; false when the deadline came first. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return (await withinDeadline(ms, work.then(() => true, () => true))) !== undefined;
}

/**
 * How long closing the providers may take after a stop: a provider whose call still hangs may
 * hang in close too, and the stores must be closed whatever it does.
 */
export const PROVIDERS_CLOSE_MS = 2_000;

/** Closes the providers, for PROVIDERS_CLOSE_MS at most, and not past the stop's deadline: the process ends soon after it. */
export async function closeProviders(providers: readonly DeliveryProvider[], budget: StopBudget): Promise<void> {
  await settlesWithin(Promise.all(providers.map((p) => p.close())), Math.min(PROVIDERS_CLOSE_MS, budget.left()));
}

/** Counts the messages inside each provider's `send`: what a stop past its deadline reports. */
export class CallsInFlight {
  private readonly counts = new Map<Route, number>();

  /** The provider, its sends counted; everything else is the provider's own. */
  track(provider: DeliveryProvider): DeliveryProvider {
    const send = async (messages: Parameters<DeliveryProvider['send']>[0]) => {
      this.add(provider.route, messages.length);
      try {
        return await provider.send(messages);
      } finally {
        this.add(provider.route, -messages.length);
      }
    };
    return new Proxy(provider, {
      get: (target, property) => {
        if (property === 'send') return send;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  /** Routes with messages in flight, and how many (no recipients: they are contact details). */
  byRoute(): Partial<Record<Route, number>> {
    return Object.fromEntries([...this.counts].filter(([, n]) => n > 0));
  }

  private add(route: Route, n: number): void {
    this.counts.set(route, (this.counts.get(route) ?? 0) + n);
  }
}
