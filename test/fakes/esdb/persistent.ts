/**
 * Test fixture, not product: the PersistentSubscriptions service of the EventStoreDB gRPC test
 * server, for groups on $all only: Create, Update, Delete, GetInfo, ReplayParked and Read (bidirectional:
 * events out, ack / nack in). Each Read connection holds at most its bufferSize unacknowledged
 * events and takes one event at a time from the group, so connected consumers share the work
 * round-robin, as ESDB's default consumer strategy does.
 */
import grpc from '@grpc/grpc-js';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { NackAction, RecordedEvent } from '../../../src/ports/eventStore.ts';
import type { Faults } from './faults.ts';
import { settingsOf, sourceOf, type Groups } from './groups.ts';
import { CheckpointEvents, reportedCheckpoint } from './checkpoints.ts';
import { Connection } from './connection.ts';
import { parkedLink, type Link } from './parked.ts';
import { esdbError, persistentPb, toWire } from './proto.ts';

type Pb = typeof persistentPb;
type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

const missing = (group: string) =>
  esdbError(grpc.status.NOT_FOUND, 'persistent-subscription-does-not-exist', `Subscription group ${group} on stream $all does not exist.`, { 'stream-name': '$all', 'group-name': group });
const notAll = () => esdbError(grpc.status.UNIMPLEMENTED, 'unsupported', 'test server: persistent subscriptions to $all only');

function unary<Req, Res>(handle: (req: Req) => Promise<Res>): Unary<Req, Res> {
  return (call, callback) => {
    handle(call.request).then((res) => callback(null, res), (error: unknown) => callback(error as grpc.ServiceError));
  };
}

const NACK_ACTIONS: Record<number, NackAction> = { 1: 'park', 2: 'retry', 3: 'skip' };

type ReadCall = grpc.ServerDuplexStream<InstanceType<Pb['ReadReq']>, InstanceType<Pb['ReadResp']>>;

/** The service, and `drop(error)`: ends every consumer connection with that error, as a node going away does. */
export function persistentService(store: SqliteEventStore, groups: Groups, faults: Faults) {
  /** Per group, the parked events being replayed: ESDB hands each out as its parked link, resolved. */
  const replaying = new Map<string, Map<number, Link>>();
  const replayedLink = (group: string) => (e: RecordedEvent): Link | undefined => {
    const link = replaying.get(group)?.get(e.position);
    replaying.get(group)?.delete(e.position);
    return link;
  };
  /** Open consumer calls, with their group once they have named it. */
  const reads = new Map<ReadCall, string | undefined>();
  const checkpoints = new CheckpointEvents(store);
  /** Per group, how many times its settings were updated (each a restart that dropped its consumers). */
  const updates = new Map<string, number>();
  const drop = (error: grpc.ServiceError, group?: string) => {
    for (const [call, of] of reads) if (group === undefined || of === group) call.emit('error', error);
  };
  const service = {
    create: unary(async (req: InstanceType<Pb['CreateReq']>) => {
      const o = req.getOptions();
      const all = o?.getAll();
      if (!o || !all) throw notAll();
      const group = o.getGroupName();
      if (groups.get(group)) throw esdbError(grpc.status.ALREADY_EXISTS, 'persistent-subscription-exists', `Subscription group ${group} on stream $all exists.`, { 'stream-name': '$all', 'group-name': group });
      await groups.create(group, { ...sourceOf(all), ...settingsOf(o.getSettings()) });
      return new persistentPb.CreateResp();
    }),

    /**
     * Changes settings; the source (start, filter) stays, as ESDB's Update of $all cannot change the
     * filter. ESDB restarts the group to apply them, which drops its consumers with reason
     * Unsubscribed, sent as "persistent-subscription-dropped" (PersistentSubscriptions.Read.cs, as
     * for Delete above); docs/esdb.md relies on it ("an update restarts the group").
     */
    update: unary(async (req: InstanceType<Pb['UpdateReq']>) => {
      const o = req.getOptions();
      if (!o?.hasAll()) throw notAll();
      const group = o.getGroupName();
      const current = groups.get(group);
      if (!current) throw missing(group);
      await groups.put(group, { ...current, ...settingsOf(o.getSettings()) });
      updates.set(group, (updates.get(group) ?? 0) + 1);
      drop(esdbError(grpc.status.CANCELLED, 'persistent-subscription-dropped', `Subscription group ${group} on stream $all was dropped.`, { 'stream-name': '$all', 'group-name': group }), group);
      return new persistentPb.UpdateResp();
    }),

    getInfo: unary(async (req: InstanceType<Pb['GetInfoReq']>) => {
      const group = req.getOptions()?.getGroupName() ?? '';
      const def = groups.get(group);
      if (!def) throw missing(group);
      const info = await store.persistentSubscriptionInfo(def.engine);
      const checkpoint = await reportedCheckpoint(store, info.checkpoint);
      const start = typeof def.startFrom === 'number' ? `C:${toWire(def.startFrom)}/P:${toWire(def.startFrom)}` : def.startFrom === 'end' ? 'C:-1/P:-1' : 'C:0/P:0';
      const s = new persistentPb.SubscriptionInfo()
        .setEventSource('$all').setGroupName(group).setStatus('Live').setStartFrom(start)
        .setLastCheckpointedEventPosition(`C:${toWire(checkpoint)}/P:${toWire(checkpoint)}`).setLastKnownEventPosition('')
        .setTotalInFlightMessages(info.inFlight).setOutstandingMessagesCount(info.inFlight).setParkedMessageCount(String(info.parked))
        .setMaxRetryCount(def.maxRetryCount).setMessageTimeoutMilliseconds(def.messageTimeoutMs).setReadBatchSize(def.readBatchSize)
        .setBufferSize(def.historyBufferSize).setLiveBufferSize(def.liveBufferSize).setMinCheckPointCount(def.minCheckpointCount)
        .setMaxCheckPointCount(def.maxCheckpointCount).setCheckPointAfterMilliseconds(def.checkpointAfterMs)
        .setNamedConsumerStrategy('RoundRobin').setTotalItems('0').setCountSinceLastMeasurement('0').setLiveBufferCount('0');
      return new persistentPb.GetInfoResp().setSubscriptionInfo(s);
    }),

    /**
     * Deletes the group, its checkpoint and parked list; its consumers are dropped, as ESDB does,
     * with "does not exist": EventStore's src/EventStore.Core/Services/Transport/Grpc/
     * PersistentSubscriptions.Read.cs answers the drop reason PersistentSubscriptionDeleted with
     * RpcExceptions.PersistentSubscriptionDoesNotExist (and only Unsubscribed with ...Dropped).
     */
    delete: unary(async (req: InstanceType<Pb['DeleteReq']>) => {
      const o = req.getOptions();
      if (!o?.hasAll()) throw notAll();
      const group = o.getGroupName();
      if (!groups.get(group)) throw missing(group);
      groups.delete(group);
      drop(missing(group), group);
      return new persistentPb.DeleteResp();
    }),

    replayParked: unary(async (req: InstanceType<Pb['ReplayParkedReq']>) => {
      const group = req.getOptions()?.getGroupName() ?? '';
      if (!groups.get(group)) throw missing(group);
      const fault = faults.take('replayParked');
      if (fault) throw fault;
      const stream = `$persistentsubscription-$all::${group}-parked`;
      const parked = await store.listParked(groups.engine(group), { limit: 1_000_000 });
      replaying.set(group, new Map(parked.map((p, i) => [p.event.position, parkedLink(stream, p.event, i, p.reason, p.parkedAt)])));
      await store.replayParked(groups.engine(group));
      return new persistentPb.ReplayParkedResp();
    }),

    read(call: ReadCall) {
      let connection: Connection | undefined;
      reads.set(call, undefined);
      call.on('data', (req: InstanceType<Pb['ReadReq']>) => {
        const options = req.getOptions();
        if (options) {
          const group = options.getGroupName();
          const fault = faults.take('persistentRead');
          if (fault) return call.emit('error', fault);
          if (!options.hasAll()) return call.emit('error', notAll());
          if (!groups.get(group)) return call.emit('error', missing(group));
          reads.set(call, group);
          connection = new Connection(store, groups.matches(group), replayedLink(group), groups.engine(group), group, Math.max(1, options.getBufferSize()), call, () => checkpoints.settled(group, groups.engine(group)));
          return;
        }
        const ack = req.getAck();
        if (ack) connection?.settle(ack.getIdsList().map((id) => id.getString()), 'ack', '');
        const nack = req.getNack();
        if (nack) connection?.settle(nack.getIdsList().map((id) => id.getString()), NACK_ACTIONS[nack.getAction()] ?? 'retry', nack.getReason());
      });
      const close = () => {
        reads.delete(call);
        void connection?.close();
      };
      call.on('end', () => { close(); call.end(); });
      call.on('cancelled', close);
      call.on('close', close);
      call.on('error', close);
    },
  };
  return { drop: (error: grpc.ServiceError) => drop(error), updates, service };
}
