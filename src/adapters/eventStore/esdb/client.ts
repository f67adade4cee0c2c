/**
 * The one file that talks to @eventstore/db-client. It turns the SDK's shapes (bigint revisions,
 * {commit, prepare} positions, Date timestamps, SDK errors) into the port's, so the rest of the
 * adapter is plain logic over numbers and port types.
 */
import { randomUUID } from 'node:crypto';
import {
  BACKWARDS, END, FORWARDS, START,
  EventStoreDBClient, PersistentSubscriptionExistsError, StreamNotFoundError, WrongExpectedVersionError,
  eventTypeFilter, excludeSystemEvents, jsonEvent, persistentSubscriptionToAllSettingsFromDefaults, streamNameFilter,
  type AppendExpectedRevision, type Filter, type PersistentSubscriptionToAllResolvedEvent, type PersistentSubscriptionToAllSettings, type ReadPosition,
} from '@eventstore/db-client';
import {
  WrongExpectedRevisionError,
  type AppendResult, type EventData, type ExpectedRevision, type PersistentSubscriptionSettings, type RecordedEvent,
} from '../../../ports/eventStore.ts';
import type { ServerFilter } from './filters.ts';
import { answerWithin, callDeadlineOf, readWithin } from './deadline.ts';
import { isMissingGroup, toPortError } from './errors.ts';
import { groupFeed, type GroupFeed, type LiveFeed } from './liveFeeds.ts';
import { findHead, type BackwardsPage } from './head.ts';
import { originalPosition } from './links.ts';
import { groupSizing, toRecorded, type GroupStart } from './records.ts';

/** Port position p as an SDK position; reads from it are inclusive, callers drop events at p. */
const at = (p: number): ReadPosition => (p <= 0 ? START : { commit: BigInt(p), prepare: BigInt(p) });

const toExpected = (e: ExpectedRevision): AppendExpectedRevision => (typeof e === 'number' ? BigInt(e) : e);

function toClientFilter(filter: ServerFilter): Filter {
  if (!filter) return excludeSystemEvents();
  return filter.on === 'stream' ? streamNameFilter({ prefixes: filter.prefixes }) : eventTypeFilter({ prefixes: filter.prefixes });
}

/** Where a group starts; a position is the event it starts at (ESDB's start is inclusive). */
const startOf = (from: GroupStart): ReadPosition => (from === 'start' ? START : from === 'end' ? END : { commit: BigInt(from), prepare: BigInt(from) });

function groupSettings(s: PersistentSubscriptionSettings, from: GroupStart = s.startFrom ?? 'start'): PersistentSubscriptionToAllSettings {
  return persistentSubscriptionToAllSettingsFromDefaults({ ...groupSizing(s), startFrom: startOf(from) });
}

export class EsdbClient {
  private readonly client: EventStoreDBClient;

  /** `deadlineMs`: how long any call may wait for an answer (deadline.ts); given to the SDK's unary calls too. */
  constructor(
    connectionString: string,
    private readonly deadlineMs = callDeadlineOf(connectionString),
  ) {
    this.client = EventStoreDBClient.connectionString(connectionString);
  }

  private within<T>(what: string, call: Promise<T>): Promise<T> {
    return answerWithin(this.deadlineMs, what, call);
  }

  async append(stream: string, events: readonly EventData[], expected: ExpectedRevision): Promise<AppendResult> {
    const data = events.map((e) => jsonEvent({ id: e.id ?? randomUUID(), type: e.type, data: e.data, metadata: e.metadata ?? {} }));
    try {
      const result = await this.within(`an append to ${stream}`, this.client.appendToStream(stream, data, { expectedRevision: toExpected(expected), deadline: this.deadlineMs }));
      return { nextExpectedRevision: Number(result.nextExpectedRevision), position: result.position ? Number(result.position.commit) : 0 };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : 'no_stream';
        throw new WrongExpectedRevisionError(stream, expected, actual);
      }
      throw toPortError(error);
    }
  }

  async readStream(stream: string, fromRevision: number, maxCount: number | undefined, resolveLinkTos = false): Promise<{ event: RecordedEvent; link?: RecordedEvent }[]> {
    const out: { event: RecordedEvent; link?: RecordedEvent }[] = [];
    try {
      const reader = this.client.readStream(stream, { fromRevision: BigInt(fromRevision), direction: FORWARDS, resolveLinkTos, ...(maxCount !== undefined && { maxCount }) });
      await readWithin(this.deadlineMs, `a read of ${stream}`, reader, (r) => {
        if (r.event) out.push({ event: toRecorded(r.event), ...(r.link && { link: toRecorded(r.link) }) });
      });
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw toPortError(error);
    }
    return out;
  }

  /** Unfiltered page of $all strictly after `after` (system events included); `more` if it may go on. */
  async readAllPage(after: number, max: number): Promise<{ events: RecordedEvent[]; more: boolean }> {
    const events: RecordedEvent[] = [];
    let raw = 0;
    try {
      await readWithin(this.deadlineMs, 'a read of $all', this.client.readAll({ fromPosition: at(after), maxCount: max + 1, direction: FORWARDS }), (r) => {
        raw += 1;
        if (r.event && Number(r.event.position.commit) > after) events.push(toRecorded(r.event));
      });
    } catch (error) {
      throw toPortError(error);
    }
    return { events: events.slice(0, max), more: raw >= max + 1 };
  }

  /** The port's headPosition (head.ts). */
  async head(): Promise<number> {
    try {
      return await findHead((before, max) => this.readAllBackwards(before, max));
    } catch (error) {
      throw toPortError(error);
    }
  }

  /**
   * Reading backwards from an event's position gives the events before it (ESDB's backward reads
   * start at a record's end). Each page is read to the end of its call: a read left before its
   * end stays among the SDK's open streams, and dispose() waits for it forever.
   */
  private async readAllBackwards(before: number | 'end', max: number): Promise<BackwardsPage> {
    const events: RecordedEvent[] = [];
    let count = 0;
    const read = this.client.readAll({ fromPosition: before === 'end' ? END : at(before), direction: BACKWARDS, maxCount: max });
    await readWithin(this.deadlineMs, 'a read of $all backwards', read, (r) => {
      count += 1;
      if (r.event) events.push(toRecorded(r.event));
    });
    return { count, events };
  }

  subscribeAll(after: number, filter: ServerFilter): LiveFeed<RecordedEvent> {
    const sub = this.client.subscribeToAll({ fromPosition: at(after), filter: toClientFilter(filter) });
    async function* events(): AsyncGenerator<RecordedEvent> {
      for await (const r of sub) if (r.event) yield toRecorded(r.event);
    }
    return { events: events(), stop: async () => { await sub.unsubscribe(); sub.destroy(); } };
  }

  /** Creates the group (from `from`, else where the settings say); false when it exists already. */
  async createGroup(group: string, input: PersistentSubscriptionSettings, filter: ServerFilter, from?: GroupStart): Promise<boolean> {
    try {
      await this.within(`creating group ${group}`, this.client.createPersistentSubscriptionToAll(group, groupSettings(input, from), { filter: toClientFilter(filter), deadline: this.deadlineMs }));
      return true;
    } catch (error) {
      if (error instanceof PersistentSubscriptionExistsError) return false;
      throw toPortError(error);
    }
  }

  /** An update restarts the group and drops its consumers, so it is sent only when a size or timeout changed. It cannot change the filter. */
  async updateGroupSettings(group: string, input: PersistentSubscriptionSettings): Promise<void> {
    const settings = groupSettings(input);
    const keys = ['maxRetryCount', 'messageTimeout', 'readBatchSize', 'historyBufferSize', 'liveBufferSize', 'checkPointLowerBound', 'checkPointAfter'] as const;
    try {
      const current = (await this.within(`reading group ${group}`, this.client.getPersistentSubscriptionToAllInfo(group, { deadline: this.deadlineMs }))).settings;
      if (keys.some((k) => current[k] !== settings[k])) await this.within(`updating group ${group}`, this.client.updatePersistentSubscriptionToAll(group, settings, { deadline: this.deadlineMs }));
    } catch (error) {
      throw toPortError(error);
    }
  }

  /** Deletes the group with its checkpoint and parked list, and drops its consumers; a missing group is no error. */
  async deleteGroup(group: string): Promise<void> {
    try {
      await this.within(`deleting group ${group}`, this.client.deletePersistentSubscriptionToAll(group, { deadline: this.deadlineMs }));
    } catch (error) {
      if (!isMissingGroup(error)) throw toPortError(error);
    }
  }

  subscribeGroup(group: string, bufferSize: number): GroupFeed {
    const sub = this.client.subscribeToPersistentSubscriptionToAll(group, { bufferSize });
    return groupFeed<PersistentSubscriptionToAllResolvedEvent>(sub, (e, link) => originalPosition(this, e, link), (what, call) => this.within(what, call));
  }

  /** `resumeFrom`: where the group would go on from, its last checkpoint or else its start. */
  async groupInfo(group: string): Promise<{ checkpoint: number; inFlight: number; parked: number; readBatchSize: number; resumeFrom: GroupStart }> {
    try {
      const info = await this.within(`reading group ${group}`, this.client.getPersistentSubscriptionToAllInfo(group, { deadline: this.deadlineMs }));
      const checkpoint = info.stats.lastCheckpointedEventPosition;
      const start = info.settings.startFrom;
      return {
        checkpoint: checkpoint ? Number(checkpoint.commit) : 0,
        resumeFrom: checkpoint ? Number(checkpoint.commit) : start === START ? 'start' : start === END ? 'end' : Number(start.commit),
        inFlight: info.stats.totalInFlightMessages,
        parked: Number(info.stats.parkedMessageCount),
        readBatchSize: info.settings.readBatchSize,
      };
    } catch (error) {
      throw toPortError(error);
    }
  }

  async replayParked(group: string): Promise<void> {
    await this.within(`replaying the parked events of ${group}`, this.client.replayParkedMessagesToAll(group, { deadline: this.deadlineMs })).catch((e: unknown) => { throw toPortError(e); });
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }
}
