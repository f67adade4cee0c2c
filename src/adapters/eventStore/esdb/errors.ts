/**
 * Which EventStoreDB failures say "not now, try again" (the port's EventStoreUnavailableError)
 * and which say something about the request. Read from the SDK error's `type` (its ErrorType),
 * so that client.ts stays the one file that imports the SDK.
 */
import { EventStoreUnavailableError } from '../../../ports/eventStore.ts';

/**
 * The SDK's error types for a node that cannot serve the call now: unreachable, cancelled or past
 * its deadline; `timeout` is gRPC ABORTED, which ESDB sends when a write's prepare, commit or
 * forward times out (the write may or may not have happened: appends are idempotent by event id);
 * `not-leader` is a follower answering a call that needs the leader (the SDK reconnects to it).
 */
const NOT_NOW_TYPES = new Set(['unavailable', 'cancelled', 'deadline-exceeded', 'timeout', 'not-leader']);

/** gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED, UNAVAILABLE: the SDK passes some on unconverted (e.g. when its server-features call fails). */
const NOT_NOW_CODES = new Set([1, 4, 10, 14]);
const GRPC_UNKNOWN = 2;

/**
 * What ESDB answers when it cannot take a call now but that the SDK turns into an UnknownError:
 * batchAppend's "Server Is Not Ready" / "Server Is Busy" (as "Could not recognize …"), and
 * "No leader info available in response" (gRPC UNKNOWN) while a cluster elects its leader.
 */
const NOT_NOW_MESSAGE = /Server Is Not Ready|Server Is (Too )?Busy|No leader info/i;

/** Failures a caller should retry later: the port reports them as "unavailable" and subscriptions reconnect. */
export function isTransient(error: unknown): boolean {
  if (error instanceof EventStoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const { type, code } = error as { type?: unknown; code?: unknown };
  if (typeof type === 'string') return NOT_NOW_TYPES.has(type) || (type === 'unknown' && NOT_NOW_MESSAGE.test(error.message));
  if (typeof code !== 'number') return false;
  return NOT_NOW_CODES.has(code) || (code === GRPC_UNKNOWN && NOT_NOW_MESSAGE.test(error.message));
}

export const isMissingGroup = (error: unknown): boolean =>
  error instanceof Error && (error as { type?: unknown }).type === 'persistent-subscription-does-not-exist';

/**
 * The server ended a consumer because of its group: deleted (ESDB answers the consumers "does not
 * exist") or its subscription stopped ("dropped"); EventStore's PersistentSubscriptions.Read.cs
 * maps the drop reasons PersistentSubscriptionDeleted/NotFound and Unsubscribed so.
 */
export const isDroppedByGroup = (error: unknown): boolean =>
  isMissingGroup(error) || (error instanceof Error && (error as { type?: unknown }).type === 'persistent-subscription-dropped');

/** The port's error for a transient failure; any other error as it is. */
export function toPortError(error: unknown): unknown {
  if (isTransient(error) && !(error instanceof EventStoreUnavailableError)) {
    return new EventStoreUnavailableError(`EventStoreDB unavailable: ${(error as Error).message}`, { cause: error });
  }
  return error;
}
