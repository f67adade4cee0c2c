/**
 * Test fixture, not product: protobuf helpers for the EventStoreDB gRPC test server. The message
 * classes and service definitions are the ones @eventstore/db-client generated from ESDB's protos,
 * so the server speaks exactly the wire format the real client expects.
 */
import grpc from '@grpc/grpc-js';
import persistentGrpc from '@eventstore/db-client/generated/persistent_grpc_pb.js';
import persistentPb from '@eventstore/db-client/generated/persistent_pb.js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import type { JsonObject, RecordedEvent } from '../../../src/ports/eventStore.ts';

export { persistentGrpc, persistentPb, serverFeaturesGrpc, serverFeaturesPb, sharedPb, streamsGrpc, streamsPb };

/** The recorded-event message of streams.proto and of persistent.proto: same fields, two classes. */
type RecordMessage = InstanceType<typeof streamsPb.ReadResp.ReadEvent.RecordedEvent> | InstanceType<typeof persistentPb.ReadResp.ReadEvent.RecordedEvent>;

export const uuid = (id: string) => new sharedPb.UUID().setString(id);
export const streamId = (name: string) => new sharedPb.StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));
export const streamName = (id: InstanceType<typeof sharedPb.StreamIdentifier> | undefined) => Buffer.from(id?.getStreamName_asU8() ?? []).toString('utf8');
export const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

/** JSON object from bytes, or {} (ESDB stores bytes; only JSON objects make sense to the port). */
export function parseJson(bytes: Uint8Array): JsonObject {
  if (bytes.length === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
  } catch {
    return {};
  }
}

/**
 * ESDB's positions are byte offsets in its log, so most numbers are not the position of an event,
 * and ESDB will not read from one. The test server's positions on the wire are the engine's spread
 * out by this factor, so that a reader that computes a position (p - 1, a midpoint) instead of
 * using one it was given fails here as it would there.
 */
const SPREAD = 128;

export const toWire = (enginePosition: number): number => enginePosition * SPREAD;

/** The engine's position for one given on the wire; an error, as ESDB answers, when no event starts there. */
export function fromWire(wirePosition: number): number {
  if (wirePosition % SPREAD !== 0) throw esdbError(grpc.status.INVALID_ARGUMENT, 'invalid-argument', `test server: ${wirePosition} is not the position of an event in $all`);
  return wirePosition / SPREAD;
}

/**
 * Fills a recorded-event message. `created` goes on the wire as .NET ticks since the Unix epoch;
 * `wirePosition`, when given, is sent instead of the event's own position (see parked.ts).
 */
export function fillRecord<M extends RecordMessage>(m: M, e: RecordedEvent, raw?: { data: Uint8Array; metadata: Uint8Array; contentType: string }, wirePosition?: string): M {
  const position = wirePosition ?? String(toWire(e.position));
  m.setId(uuid(e.id));
  m.setStreamIdentifier(streamId(e.streamName));
  m.setStreamRevision(String(e.revision));
  m.setCommitPosition(position);
  m.setPreparePosition(position);
  const map = m.getMetadataMap();
  map.set('type', e.type);
  map.set('content-type', raw?.contentType ?? 'application/json');
  map.set('created', String(BigInt(e.created) * 10_000n));
  m.setData(raw?.data ?? json(e.data));
  m.setCustomMetadata(raw?.metadata ?? json(e.metadata));
  return m;
}

/**
 * An error as ESDB sends it: a gRPC status plus the `exception` trailer the client reads to pick
 * its error class, and any extra trailers it reads details from (stream-name, group-name).
 */
export function esdbError(code: grpc.status, exception: string, details: string, extra: Record<string, string> = {}): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  metadata.set('exception', exception);
  for (const [key, value] of Object.entries(extra)) metadata.set(key, value);
  return Object.assign(new Error(details), { code, details, metadata });
}

/** Writes with backpressure; resolves false when the call went away while waiting. */
export async function send(call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, message: unknown): Promise<boolean> {
  if (call.cancelled || call.destroyed) return false;
  if (call.write(message)) return true;
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      call.off('drain', onDrain);
      call.off('cancelled', onGone);
      call.off('close', onGone);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onGone = () => done(false);
    call.once('drain', onDrain);
    call.once('cancelled', onGone);
    call.once('close', onGone);
  });
}

/** An ESDB filter expression (prefixes or regex, on stream names or event types) as a predicate. */
export function filterPredicate(on: 'stream' | 'type' | undefined, prefixes: string[], regex: string): (e: RecordedEvent) => boolean {
  if (!on) return () => true;
  const pattern = regex ? new RegExp(regex) : undefined;
  return (e) => {
    const subject = on === 'stream' ? e.streamName : e.type;
    return pattern ? pattern.test(subject) : prefixes.some((p) => subject.startsWith(p));
  };
}
