/**
 * Test fixture, not product: failures the EventStoreDB gRPC test server can be told to answer,
 * shaped as ESDB sends them, so the adapter's handling of a busy or changing cluster is tested
 * through the real client.
 */
import grpc from '@grpc/grpc-js';
import { esdbError } from './proto.ts';

/**
 * The calls a fault can be queued for: Streams.Append, Streams.Read of a group's parked-messages
 * stream, PersistentSubscriptions.Read (a consumer connecting) and ReplayParked.
 */
export type FaultPoint = 'append' | 'readParked' | 'persistentRead' | 'replayParked';

export class Faults {
  private readonly queued = new Map<FaultPoint, grpc.ServiceError[]>();

  /** The next call at `point` fails with `error` (queued: several calls fail in turn). */
  failNext(point: FaultPoint, error: grpc.ServiceError): void {
    this.queued.set(point, [...(this.queued.get(point) ?? []), error]);
  }

  take(point: FaultPoint): grpc.ServiceError | undefined {
    return this.queued.get(point)?.shift();
  }
}

/** A bare gRPC status, as ESDB sends the errors it raises without an `exception` trailer. */
const status = (code: grpc.status, details: string): grpc.ServiceError => Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });

/** A write's commit timed out (ESDB's RpcExceptions.Timeout): gRPC ABORTED. */
export const commitTimeout = (): grpc.ServiceError => status(grpc.status.ABORTED, 'Operation timed out: commit timeout');

/** A follower answering a call that needs the leader, with where the leader is (ESDB's RpcExceptions.LeaderInfo). */
export const notLeader = (host: string, port: number): grpc.ServiceError =>
  esdbError(grpc.status.NOT_FOUND, 'not-leader', 'Leader info available', { 'leader-endpoint-host': host, 'leader-endpoint-port': String(port) });

/** While a cluster elects its leader (ESDB's RpcExceptions.NoLeaderInfo): gRPC UNKNOWN. */
export const noLeaderInfo = (): grpc.ServiceError => status(grpc.status.UNKNOWN, 'No leader info available in response');

/** A node that cannot serve now (starting, or shutting down): gRPC UNAVAILABLE. */
export const notReady = (): grpc.ServiceError => status(grpc.status.UNAVAILABLE, 'Server Is Not Ready');

/** Credentials without the rights the call needs (a $ stream read by a user outside $ops and $admins). */
export const accessDenied = (): grpc.ServiceError => esdbError(grpc.status.PERMISSION_DENIED, 'access-denied', 'Access denied');
