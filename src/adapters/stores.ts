import { mkdirSync } from 'node:fs';
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Config } from '../config.ts';
import { ConfigError } from '../configError.ts';
import { SqliteEventStore, type SharedWriters } from './eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from './readModels/sqlite/sqliteReadModelStore.ts';
import { BULK_WRITER_OPTIONS } from './readModels/sqlite/storeOptions.ts';

/**
 * Opens the configured stores: embedded SQLite files, or EventStoreDB and MongoDB. A wrong or
 * unreachable server fails start-up here with a message saying what to check; once running,
 * lost connections are retried by the adapters. The server clients are imported only when
 * configured: on the embedded default they would cost each thread ≈190 ms and ≈33 MB for nothing.
 */
export interface StoreOptions extends SharedWriters {
  /** The embedded read-model store is opened for a bulk writer (replay): BULK_WRITER_OPTIONS. */
  readModelCommitThread?: boolean;
}

/** `writeLock`, `durableMarks`: the embedded event store's, shared with the other thread writing the same file. */
export async function openStores(config: Config, logger: Logger, options: StoreOptions = {}): Promise<{ events: EventStore; readModels: ReadModelStore }> {
  if (config.eventStore.kind === 'embedded' || config.readStore.kind === 'embedded') mkdirSync(config.dataDir, { recursive: true });
  const events = await openEventStore(config, logger, options);
  try {
    const readModels = config.readStore.kind === 'embedded'
      ? new SqliteReadModelStore(config.readStore.file, logger.child({ component: 'read-models' }), options.readModelCommitThread ? BULK_WRITER_OPTIONS : {})
      : await openMongo(config.readStore.url);
    return { events, readModels };
  } catch (error) {
    await events.close();
    throw error;
  }
}

async function openEventStore(config: Config, logger: Logger, shared: SharedWriters): Promise<EventStore> {
  if (config.eventStore.kind === 'embedded') return new SqliteEventStore(config.eventStore.file, { ...shared, logger: logger.child({ component: 'event-store' }) });
  const { createEsdbEventStore } = await import('./eventStore/esdb/esdbEventStore.ts');
  let store: ReturnType<typeof createEsdbEventStore>;
  try {
    store = createEsdbEventStore(config.eventStore.url, logger.child({ component: 'eventstoredb' }));
  } catch (error) {
    throw new ConfigError(`EVENTSTORE_URL is not a valid EventStoreDB connection string (${describe(error)}); use e.g. esdb://localhost:2113?tls=false`);
  }
  try {
    await store.ready();
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw new ConfigError(`cannot reach EventStoreDB at EVENTSTORE_URL (${describe(error)}); check the server is running and the URL, TLS setting and credentials are right`);
  }
}

async function openMongo(url: string): Promise<ReadModelStore> {
  const { createMongoReadModelStore } = await import('./readModels/mongodb/mongoReadModelStore.ts');
  try {
    return await createMongoReadModelStore(url);
  } catch (error) {
    throw new ConfigError(describe(error));
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));
