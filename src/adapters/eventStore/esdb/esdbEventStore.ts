import type { Logger } from '../../../ports/logger.ts';
import { AccessDeniedError } from '@eventstore/db-client';
import {
  EventStoreUnavailableError,
  ParkedEventsUnreadableError,
  type AppendResult,
  type EventData,
  type EventStore,
  type ExpectedRevision,
  type ParkedEvent,
  type PersistentSubscription,
  type PersistentSubscriptionInfo,
  type PersistentSubscriptionSettings,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
  type StreamAppend,
  type Subscription,
} from '../../../ports/eventStore.ts';
import { matchesFilter } from '../../../ports/eventFilter.ts';
import { withinDeadline } from '../../../withinDeadline.ts';
import { EsdbCatchUpSubscription } from './catchUpSubscription.ts';
import { EsdbClient } from './client.ts';
import { NoAnswerError } from './deadline.ts';
import { ensureGroup, restoreGroup } from './ensureGroup.ts';
import { readParked } from './links.ts';
import { serverFilter } from './filters.ts';
import { EsdbPersistentSubscription } from './persistentSubscription.ts';

/** Raw events fetched per readAll round trip; the port's filter is applied to each page. */
const READ_ALL_PAGE = 500;

/**
 * How long start-up waits for EventStoreDB: its first answer (`ready()`, which each call's own
 * deadline usually ends first: deadline.ts) and the set-up of each persistent subscription group,
 * several calls which may wait up to 10 s for another instance recreating it (docs/esdb.md,
 * "Start-up deadline").
 */
export const STARTUP_DEADLINE_MS = 30_000;

export interface EsdbOptions {
  startupDeadlineMs?: number;
  /** How long any call may wait for an answer; default EVENTSTORE_URL's `defaultDeadline`, else 10 s (deadline.ts). */
  callDeadlineMs?: number;
}

function noAnswer(what: string, ms: number): EventStoreUnavailableError {
  return new EventStoreUnavailableError(
    `EventStoreDB did not answer within ${ms / 1000} s ${what}: something at EVENTSTORE_URL's host and port takes the connection but does not answer as EventStoreDB does. ` +
    'Check that the port is the server\'s gRPC port (2113 unless changed), that a proxy or load balancer there has a healthy node behind it, and that the node has finished starting; then start Herald again',
  );
}

/**
 * The production event store: EventStoreDB over gRPC. The port mirrors ESDB, so this is a thin
 * mapping; the differences it absorbs are documented in docs/esdb.md.
 */
export class EsdbEventStore implements EventStore {
  private readonly client: EsdbClient;
  /** What ensurePersistentSubscription was told, for consumers of the same group in this process. */
  private readonly groups = new Map<string, PersistentSubscriptionSettings>();
  private readonly open = new Set<{ close(): Promise<void> }>();
  private closing: Promise<void> | undefined;

  private readonly startupDeadlineMs: number;

  constructor(connectionString: string, private readonly logger?: Logger, options: EsdbOptions = {}) {
    this.client = new EsdbClient(connectionString, options.callDeadlineMs);
    this.startupDeadlineMs = options.startupDeadlineMs ?? STARTUP_DEADLINE_MS;
  }

  /** Resolves once the server answers (a read of the head), or rejects after the start-up deadline. */
  async ready(): Promise<void> {
    const head = this.client.head().catch((error: unknown) => {
      // The call's own deadline (shorter than start-up's, unless changed) came first: said as start-up says it.
      throw error instanceof NoAnswerError ? noAnswer('to its first call', error.ms) : error;
    });
    if (!(await withinDeadline(this.startupDeadlineMs, head))) throw noAnswer('to its first call', this.startupDeadlineMs);
  }

  append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    return this.client.append(stream, events, expected);
  }

  /** EventStoreDB writes one stream per append (this client has no multi-stream append): one after another. */
  appendInOrder(appends: readonly StreamAppend[]): Promise<AppendResult[]> {
    return appendOneByOne(this, appends);
  }

  async readStream(stream: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const entries = await this.client.readStream(stream, options.fromRevision ?? 0, options.maxCount);
    return entries.map((e) => e.event);
  }

  /**
   * The SDK's readAll takes no filter (only subscriptions do), so pages of $all are filtered here.
   * Cost grows with what is scanned, as it would on the server.
   */
  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const max = options.maxCount ?? Number.POSITIVE_INFINITY;
    const out: RecordedEvent[] = [];
    let after = options.fromPosition ?? 0;
    for (;;) {
      const page = await this.client.readAllPage(after, READ_ALL_PAGE);
      for (const e of page.events) {
        if (matchesFilter(options.filter, e)) out.push(e);
        if (out.length >= max) return out;
      }
      after = page.events.at(-1)?.position ?? after;
      if (!page.more || page.events.length === 0) return out;
    }
  }

  headPosition(): Promise<number> {
    return this.client.head();
  }

  subscribeToAll(options: ReadAllOptions = {}): Subscription<RecordedEvent> {
    const filter = serverFilter(options.filter);
    return this.track(new EsdbCatchUpSubscription(
      (after) => this.client.subscribeAll(after, filter),
      (e) => matchesFilter(options.filter, e),
      options.fromPosition ?? 0,
      this.logger?.child({ subscription: '$all' }),
    ));
  }

  async ensurePersistentSubscription(group: string, settings: PersistentSubscriptionSettings): Promise<void> {
    const set = ensureGroup(this.client, group, settings, serverFilter(settings.filter), this.logger?.child({ group }));
    if (!(await withinDeadline(this.startupDeadlineMs, set))) throw noAnswer(`while setting up persistent subscription group ${group}`, this.startupDeadlineMs);
    this.groups.set(group, settings);
  }

  /** bufferSize = maxInFlight: ESDB bounds unacknowledged events per consumer, not per group. */
  connectPersistentSubscription(group: string): PersistentSubscription {
    const known = this.groups.get(group);
    const open = async () => {
      const bufferSize = known?.maxInFlight ?? (await this.client.groupInfo(group)).readBatchSize;
      return this.client.subscribeGroup(group, Math.max(1, bufferSize));
    };
    const logger = this.logger?.child({ group });
    // Without the settings this process set the group with, a deleted group cannot be made again here.
    const restore = known && (() => restoreGroup(this.client, group, known, serverFilter(known.filter), logger));
    return this.track(new EsdbPersistentSubscription(open, (e) => matchesFilter(known?.filter, e), logger, restore));
  }

  async persistentSubscriptionInfo(group: string): Promise<PersistentSubscriptionInfo> {
    const { checkpoint, inFlight, parked } = await this.client.groupInfo(group);
    return { group, checkpoint, inFlight, parked };
  }

  listParked(group: string, options: { limit?: number } = {}): Promise<ParkedEvent[]> {
    return readParked(this.client, group, options.limit ?? 100);
  }

  /** ESDB's replay answers nothing; the count is the group's parked count just before. */
  async replayParked(group: string): Promise<number> {
    const { parked } = await this.client.groupInfo(group);
    await this.client.replayParked(group).catch((error: unknown) => {
      throw error instanceof AccessDeniedError ? new ParkedEventsUnreadableError(group, { cause: error }) : error;
    });
    return parked;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.open].map((s) => s.close()));
      await this.client.dispose();
    })();
    return this.closing;
  }

  private track<T extends { close(): Promise<void> }>(subscription: T): T {
    this.open.add(subscription);
    const close = subscription.close.bind(subscription);
    subscription.close = async () => {
      this.open.delete(subscription);
      await close();
    };
    return subscription;
  }
}

/** `appendInOrder` one stream per call: each append waits for the one before. */
async function appendOneByOne(store: Pick<EventStore, 'append'>, appends: readonly StreamAppend[]): Promise<AppendResult[]> {
  const results: AppendResult[] = [];
  for (const { stream, events, expected } of appends) results.push(await store.append(stream, events, expected));
  return results;
}

export function createEsdbEventStore(connectionString: string, logger?: Logger, options: EsdbOptions = {}): EsdbEventStore {
  return new EsdbEventStore(connectionString, logger, options);
}
