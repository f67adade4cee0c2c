/**
 * Test fixture, not product: the Streams service of the EventStoreDB gRPC test server. Covers
 * Append (client streaming; conflicts answered in the body, as ESDB does), Read of a stream
 * (forwards) and of $all (both ways), and subscriptions to $all
 * (history then live, Confirmation first, ESDB filters). Parked-message streams are served from
 * the embedded engine's parked list (see parked.ts).
 */
import grpc from '@grpc/grpc-js';
import { WrongExpectedRevisionError, type EventData, type ExpectedRevision, type RecordedEvent } from '../../../src/ports/eventStore.ts';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { Faults } from './faults.ts';
import { NO_POSITION, parkedStreamGroup, readParkedStream, type Link } from './parked.ts';
import { esdbError, fillRecord, filterPredicate, fromWire, parseJson, send, sharedPb, streamId, streamName, streamsPb, toWire } from './proto.ts';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
type AppendResp = InstanceType<typeof streamsPb.AppendResp>;

/** A read event; a resolved link's event comes without a position of its own, as ESDB sends it. */
export function eventResp(e: RecordedEvent, link?: Link): ReadResp {
  const read = new streamsPb.ReadResp.ReadEvent();
  if (link) read.setLink(fillRecord(new streamsPb.ReadResp.ReadEvent.RecordedEvent(), link.record, { ...link, contentType: 'application/octet-stream' }, link.wirePosition));
  read.setEvent(fillRecord(new streamsPb.ReadResp.ReadEvent.RecordedEvent(), e, undefined, link ? NO_POSITION : undefined));
  read.setCommitPosition(link ? link.wirePosition : String(toWire(e.position)));
  return new streamsPb.ReadResp().setEvent(read);
}

/** `engineOf`: the embedded engine's name for a persistent subscription group (see groups.ts). */
export function streamsService(store: () => SqliteEventStore, faults: Faults, engineOf: (group: string) => string) {
  return {
    append(call: grpc.ServerReadableStream<AppendReq, AppendResp>, callback: grpc.sendUnaryData<AppendResp>) {
      let stream = '';
      let expected: ExpectedRevision = 'any';
      const events: EventData[] = [];
      call.on('data', (req: AppendReq) => {
        const options = req.getOptions();
        if (options) {
          stream = streamName(options.getStreamIdentifier());
          if (options.hasNoStream()) expected = 'no_stream';
          else if (options.hasStreamExists()) expected = 'stream_exists';
          else if (options.hasRevision()) expected = Number(options.getRevision());
          return;
        }
        const m = req.getProposedMessage();
        if (!m) return;
        events.push({ id: m.getId()?.getString() || undefined, type: m.getMetadataMap().get('type') ?? '', data: parseJson(m.getData_asU8()), metadata: parseJson(m.getCustomMetadata_asU8()) });
      });
      call.on('end', () => {
        const fault = faults.take('append');
        if (fault) return callback(fault);
        store().append(stream, events, expected).then(
          (r) => {
            const position = new streamsPb.AppendResp.Position().setCommitPosition(String(toWire(r.position))).setPreparePosition(String(toWire(r.position)));
            callback(null, new streamsPb.AppendResp().setSuccess(new streamsPb.AppendResp.Success().setCurrentRevision(String(r.nextExpectedRevision)).setPosition(position)));
          },
          (error: unknown) => {
            if (!(error instanceof WrongExpectedRevisionError)) return callback(esdbError(grpc.status.UNKNOWN, 'unknown', String(error)));
            const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
            if (error.actual === 'no_stream') wrong.setCurrentNoStream(new sharedPb.Empty());
            else wrong.setCurrentRevision(String(error.actual));
            if (expected === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
            else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
            else if (expected === 'any') wrong.setExpectedAny(new sharedPb.Empty());
            else wrong.setExpectedRevision(String(expected));
            callback(null, new streamsPb.AppendResp().setWrongExpectedVersion(wrong));
          },
        );
      });
    },

    read(call: grpc.ServerWritableStream<ReadReq, ReadResp>) {
      const options = call.request.getOptions();
      const fail = (error: unknown) => call.emit('error', error instanceof Error && 'code' in error ? error : esdbError(grpc.status.UNKNOWN, 'unknown', String(error)));
      if (!options) return fail(esdbError(grpc.status.INVALID_ARGUMENT, 'invalid-argument', 'missing options'));
      const fault = options.hasStream() && parkedStreamGroup(streamName(options.getStream()!.getStreamIdentifier())) !== undefined ? faults.take('readParked') : undefined;
      if (fault) return fail(fault);
      const run = options.hasStream() ? readStream(call, options, store(), engineOf) : options.hasSubscription() ? subscribeAll(call, options, store()) : readAll(call, options, store());
      run.then(() => call.end(), fail);
    },
  };
}

type Options = InstanceType<typeof streamsPb.ReadReq.Options>;
type Call = grpc.ServerWritableStream<ReadReq, ReadResp>;

async function readStream(call: Call, options: Options, store: SqliteEventStore, engineOf: (group: string) => string): Promise<void> {
  const stream = options.getStream()!;
  const name = streamName(stream.getStreamIdentifier());
  if (options.getReadDirection() !== streamsPb.ReadReq.Options.ReadDirection.FORWARDS || options.hasSubscription()) {
    throw esdbError(grpc.status.UNIMPLEMENTED, 'unsupported', 'test server: only forward reads of a stream');
  }
  const fromRevision = stream.hasRevision() ? Number(stream.getRevision()) : 0;
  const maxCount = Number(options.getCount());
  const group = parkedStreamGroup(name);
  const entries = group !== undefined
    ? (await readParkedStream(store, name, engineOf(group), fromRevision, maxCount)).map((p) => (options.getResolveLinks() ? eventResp(p.event, p.link) : eventResp(p.link.record)))
    : (await store.readStream(name, { fromRevision, maxCount })).map((e) => eventResp(e));
  if (entries.length === 0 && (group !== undefined || (await store.readStream(name, { maxCount: 1 })).length === 0)) {
    await send(call, new streamsPb.ReadResp().setStreamNotFound(new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamId(name))));
    return;
  }
  for (const resp of entries) if (!(await send(call, resp))) return;
}

/** ESDB reads of $all start AT the given position (inclusive); the embedded engine reads after it. */
async function readAll(call: Call, options: Options, store: SqliteEventStore): Promise<void> {
  const all = options.getAll()!;
  const count = Number(options.getCount());
  if (options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS) {
    const before = all.hasPosition() ? fromWire(Number(all.getPosition()!.getCommitPosition())) : (await store.headPosition()) + 1;
    for (const e of await readBackwards(store, before, count)) if (!(await send(call, eventResp(e)))) return;
    return;
  }
  const from = all.hasPosition() ? fromWire(Number(all.getPosition()!.getCommitPosition())) - 1 : all.hasEnd() ? await store.headPosition() : 0;
  for (const e of await store.readAll({ fromPosition: Math.max(0, from), maxCount: count })) {
    if (!(await send(call, eventResp(e)))) return;
  }
}

/**
 * ESDB reads $all backwards from a post-position, the end of a record (KurrentDB, IAllReader
 * .ReadAllEventsBackward: "Positions is specified as post-positions (pointer after the end of
 * record)"): from an event's position, the events before it, newest first, system events included.
 */
export async function readBackwards(store: SqliteEventStore, before: number, count: number): Promise<RecordedEvent[]> {
  if (before <= 1) return [];
  for (let window = Math.min(count, before); ; window *= 2) {
    const from = Math.max(0, before - 1 - window);
    const events = (await store.readAll({ fromPosition: from, maxCount: before - 1 - from })).filter((e) => e.position < before);
    if (events.length >= count || from === 0) return events.reverse().slice(0, count);
  }
}

/** Subscriptions start AFTER the given position, as ESDB's do. */
async function subscribeAll(call: Call, options: Options, store: SqliteEventStore): Promise<void> {
  if (!options.hasAll()) throw esdbError(grpc.status.UNIMPLEMENTED, 'unsupported', 'test server: subscriptions to $all only');
  const all = options.getAll()!;
  const from = all.hasPosition() ? fromWire(Number(all.getPosition()!.getCommitPosition())) : all.hasEnd() ? await store.headPosition() : 0;
  const f = options.getFilter();
  const expr = f?.getStreamIdentifier() ?? f?.getEventType();
  const on = f?.hasStreamIdentifier() ? 'stream' : f?.hasEventType() ? 'type' : undefined;
  const predicate = filterPredicate(on, expr?.getPrefixList() ?? [], expr?.getRegex() ?? '');
  const prefixes = on === 'stream' && !expr?.getRegex() ? expr?.getPrefixList() : undefined;
  const sub = store.subscribeToAll({ fromPosition: from, filter: prefixes ? { streamPrefixes: prefixes } : undefined });
  const stop = () => void sub.close();
  call.once('cancelled', stop);
  call.once('close', stop);
  try {
    const confirmation = new streamsPb.ReadResp.SubscriptionConfirmation().setSubscriptionId(`test-${Date.now()}`);
    if (!(await send(call, new streamsPb.ReadResp().setConfirmation(confirmation)))) return;
    for (;;) {
      const batch = await sub.nextBatch(256);
      if (batch.length === 0) return;
      for (const e of batch) if (predicate(e) && !(await send(call, eventResp(e)))) return;
    }
  } finally {
    await sub.close();
  }
}
