/**
 * A stop's deadline (HERALD_STOP_TIMEOUT_MS). A stop waits for the provider calls under way, so
 * that their outcomes are recorded and no other instance is handed a delivery still being sent;
 * but a provider that never answers would hold it forever, until the supervisor's SIGKILL, which
 * leaves no checkpoint written and no word of what was in flight. Past the deadline the stop goes
 * on without those calls: it says what is still with a provider, closes the stores (which hands
 * their events back to their groups, to be sent at the next start) and ends in a StopDeadlineError,
 * so the process exits non-zero.
 */
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import { withinDeadline } from './withinDeadline.ts';

export class StopDeadlineError extends Error {
  readonly code = 'stop_deadline_passed';
  constructor(
    readonly deadlineMs: number,
    /** Messages still inside a provider's send, by route. */
    readonly inFlight: Partial<Record<Route, number>> = {},
  ) {
    super(`the stop did not finish within its deadline of ${deadlineMs} ms (HERALD_STOP_TIMEOUT_MS)`);
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

/** Closes the providers, for PROVIDERS_CLOSE_MS at most. */
export async function closeProviders(providers: readonly DeliveryProvider[]): Promise<void> {
  await settlesWithin(Promise.all(providers.map((p) => p.close())), PROVIDERS_CLOSE_MS);
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
