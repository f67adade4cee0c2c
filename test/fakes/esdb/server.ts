/**
 * Test fixture, not product: an in-process EventStoreDB gRPC server for the ESDB adapter's tests.
 * The real @eventstore/db-client talks to it over a real HTTP/2 socket on 127.0.0.1, and behind
 * it runs the embedded engine (SqliteEventStore), so the contract suite checks the adapter's
 * mapping against the semantics the embedded adapter already passes.
 *
 * Covers what the adapter uses: ServerFeatures.GetSupportedMethods, Streams.Append/Read (streams,
 * $all, subscriptions to $all with filters, parked-message streams), PersistentSubscriptions
 * Create/Update/Delete/Read/GetInfo/ReplayParked for $all. Not covered: BatchAppend (not advertised, so
 * the client falls back to Append), deletes, stream subscriptions, persistent subscriptions to
 * streams, projections, users, gossip (a single-host connection string makes no gossip call), TLS.
 */
import grpc from '@grpc/grpc-js';
import { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { Faults } from './faults.ts';
import { Groups } from './groups.ts';
import { persistentService } from './persistent.ts';
import { persistentGrpc, serverFeaturesGrpc, serverFeaturesPb, streamsGrpc } from './proto.ts';
import { silentListener } from './silence.ts';
import { streamsService } from './streams.ts';

export interface EsdbTestServer {
  port: number;
  /** Connection string for the adapter: single host, no TLS. */
  url: string;
  store: SqliteEventStore;
  /** Failures to answer instead of what the next calls ask (see faults.ts). */
  faults: Faults;
  /** Ends every persistent subscription consumer's connection with `error` (the server itself stays up). */
  dropConsumers(error: grpc.ServiceError): void;
  /** Per group, how many times its settings were updated (each drops its consumers, as ESDB's restart does). */
  groupUpdates: ReadonlyMap<string, number>;
  /**
   * Drops every connection at once, then takes new ones on the same port and never answers them
   * (silence.ts: a node frozen as it restarts, or a proxy left with no node behind it).
   */
  stopAnswering(): Promise<void>;
  /** Drops every connection at once (as a crashed server would) and closes the database. */
  stop(): Promise<void>;
}

/** The client refuses persistent subscriptions to $all unless the server lists them with feature "all". */
function supportedMethods() {
  const method = (service: string, name: string, features: string[] = []) =>
    new serverFeaturesPb.SupportedMethod().setServiceName(service).setMethodName(name).setFeaturesList(features);
  const streams = 'event_store.client.streams.Streams';
  const persistent = 'event_store.client.persistent_subscriptions.PersistentSubscriptions';
  return new serverFeaturesPb.SupportedMethods()
    .setEventStoreServerVersion('23.10.0-herald-test')
    .setMethodsList([
      method(streams, 'Read'),
      method(streams, 'Append'),
      ...['Create', 'Update', 'Delete', 'Read', 'GetInfo', 'ReplayParked'].map((name) => method(persistent, name, ['stream', 'all'])),
    ]);
}

/** Starts a server on `file` (created when missing); `port` 0 picks a free one, or reuse one to "restart". */
export async function startEsdbTestServer(file: string, port = 0): Promise<EsdbTestServer> {
  const store = new SqliteEventStore(file);
  const groups = new Groups(store, file);
  await groups.load();
  const server = new grpc.Server();
  server.addService(serverFeaturesGrpc.ServerFeaturesService, {
    getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, supportedMethods()),
  });
  const faults = new Faults();
  server.addService(streamsGrpc.StreamsService, streamsService(() => store, faults, (group) => groups.engine(group)));
  const persistent = persistentService(store, groups, faults);
  server.addService(persistentGrpc.PersistentSubscriptionsService, persistent.service);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p)));
  });
  let stopping: Promise<void> | undefined;
  let silent: Promise<{ close(): Promise<void> }> | undefined;
  return {
    port: bound,
    url: `esdb://127.0.0.1:${bound}?tls=false`,
    store,
    faults,
    dropConsumers: persistent.drop,
    /** Per group, how many times its settings were updated (each drops its consumers, as ESDB's restart does). */
    groupUpdates: persistent.updates,
    stopAnswering: async () => {
      server.forceShutdown();
      silent ??= silentListener(bound);
      await silent;
    },
    stop: () => {
      stopping ??= (async () => {
        server.forceShutdown();
        await (await silent)?.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
