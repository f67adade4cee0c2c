import type Database from 'better-sqlite3';
import type { EventFilter } from '../../../ports/eventFilter.ts';
import type { ParkedEvent, PersistentSubscription, PersistentSubscriptionInfo, PersistentSubscriptionSettings, RecordedEvent } from '../../../ports/eventStore.ts';
import { PersistentGroup, withDefaults, type Entry, type GroupSettings } from './persistentGroup.ts';
import { EVENT_COLUMNS, fromTuple, type EventTuple } from './rows.ts';
import type { TurnBatch } from './turnBatch.ts';
import { GroupConsumer } from './groupConsumer.ts';
import type { Wakes } from './wakes.ts';
import type { Logger } from '../../../ports/logger.ts';
import { LogEvery } from '../../../logEvery.ts';

type ReadPage = (from: number, max: number, filter: EventFilter) => { events: RecordedEvent[]; scannedTo: number };

/** How often checkpoints reach the disk: redelivery after a crash is bounded by this much work. */
const CHECKPOINT_EVERY_MS = 100;
/** The longest wait between tries of a park the store refused (a full disk). */
const MAX_PARK_RETRY_MS = 5_000;

/** The embedded adapter's persistent subscription groups: durable settings, checkpoints and parked events. */
export class PersistentGroups {
  private readonly groups = new Map<string, PersistentGroup>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly consumers = new Set<GroupConsumer>();
  private nextConsumerId = 1;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    private readonly writes: TurnBatch,
    private readonly readPage: ReadPage,
    /** The store's commit wake-ups: a group's consumers look again only for commits of its types. */
    private readonly wakes: Wakes,
    /** Told every group's filter whenever one is set (the store's log tail holds what they take). */
    private readonly follow: (filters: EventFilter[]) => void,
    /** Where a park the store refuses is reported (otherwise the event would wait in silence). */
    private readonly logger?: Logger,
  ) {}

  async ensure(name: string, input: PersistentSubscriptionSettings, head: number): Promise<void> {
    const settings = withDefaults(input);
    const row = this.db.prepare<[string], { checkpoint: number }>('SELECT checkpoint FROM ps_groups WHERE name = ?').get(name);
    const checkpoint = row?.checkpoint ?? (input.startFrom === 'end' ? head : 0);
    await this.writes.enqueue(() =>
      this.db
        .prepare('INSERT INTO ps_groups (name, settings, checkpoint) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET settings = excluded.settings')
        .run(name, JSON.stringify(settings), checkpoint),
    );
    const existing = this.groups.get(name);
    if (existing) existing.settings = settings;
    else this.start(name, settings, checkpoint);
    this.follow([...this.groups.values()].map((g) => g.settings.filter));
  }

  /** A group new to this instance: its cursor, its commit wake-ups and its timeout sweep. */
  private start(name: string, settings: GroupSettings, checkpoint: number): void {
    const group = new PersistentGroup(name, settings, checkpoint, this.io(name));
    this.groups.set(name, group);
    this.wakes.add(() => group.settings.filter, group.changed);
    const tick = Math.max(10, Math.min(1000, settings.messageTimeoutMs / 4));
    const timer = setInterval(() => group.expire(Date.now()), tick);
    timer.unref();
    this.timers.push(timer);
  }

  private io(name: string) {
    let saveScheduled = false;
    let latest = 0;
    const save = this.db.prepare('UPDATE ps_groups SET checkpoint = ? WHERE name = ? AND checkpoint < ?');
    const park = this.db.prepare(
      'INSERT INTO ps_parked (group_name, position, reason, parked_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET reason = excluded.reason, parked_at = excluded.parked_at',
    );
    const unpark = this.db.prepare('DELETE FROM ps_parked WHERE group_name = ? AND position = ?');
    const refusedParks = new LogEvery();
    return {
      readPage: this.readPage,
      saveCheckpoint: (position: number) => {
        latest = position;
        if (saveScheduled) return;
        saveScheduled = true;
        setTimeout(() => {
          saveScheduled = false;
          void this.writes.enqueue(() => save.run(latest, name, latest)).catch(() => undefined);
        }, CHECKPOINT_EVERY_MS).unref();
      },
      park: async (entry: Entry, reason: string) => {
        // Until it is written the event stays behind the checkpoint; once space is back the write goes through.
        const { position } = entry.event;
        for (let wait = 250, tries = 1; !this.closed; wait = Math.min(wait * 2, MAX_PARK_RETRY_MS), tries += 1) {
          try {
            await this.writes.enqueue(() => park.run(name, position, reason, Date.now()));
            if (tries > 1) this.logger?.info({ group: name, position, tries }, 'dead letter recorded after the event store refused it; the group moves on');
            return true;
          } catch (error) {
            const failures = refusedParks.due();
            if (failures > 0) {
              this.logger?.warn(
                { err: error, group: name, position, reason, failures },
                `cannot record a dead letter now: the event stays undelivered behind the group's checkpoint and the write is retried up to every ${MAX_PARK_RETRY_MS / 1000} s (logged again once a minute while it fails)`,
              );
            }
            await new Promise((resolve) => setTimeout(resolve, wait).unref());
          }
        }
        return false;
      },
      unpark: (position: number) => {
        void this.writes.enqueue(() => unpark.run(name, position)).catch(() => undefined);
      },
    };
  }

  has(name: string): boolean {
    return this.groups.has(name);
  }

  get(name: string): PersistentGroup {
    const group = this.groups.get(name);
    if (!group) throw new Error(`persistent subscription group ${name} does not exist: call ensurePersistentSubscription first`);
    return group;
  }

  connect(name: string): PersistentSubscription {
    const consumer = new GroupConsumer(this.nextConsumerId++, this.get(name), (c) => this.consumers.delete(c));
    this.consumers.add(consumer);
    return consumer;
  }

  info(name: string): PersistentSubscriptionInfo {
    const group = this.get(name);
    const parked = this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM ps_parked WHERE group_name = ?').get(name)?.n ?? 0;
    return { group: name, checkpoint: group.checkpoint, inFlight: group.counts().inFlight, parked };
  }

  /** Each parked event with why and when it was parked: its EventTuple, then reason and parked_at. */
  private parkedRows(name: string, limit: number): { event: RecordedEvent; reason: string; parkedAt: number }[] {
    const rows = this.db
      .prepare(
        `SELECT ${EVENT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')}, p.reason, p.parked_at
         FROM ps_parked p JOIN events e ON e.position = p.position WHERE p.group_name = ? ORDER BY p.position LIMIT ?`,
      )
      .raw(true)
      .all(name, limit) as [...EventTuple, string, number][];
    return rows.map((r) => ({ event: fromTuple(r.slice(0, 8) as EventTuple), reason: r[8], parkedAt: r[9] }));
  }

  /**
   * Read from the database, so any instance on the file can list them, not only the group's host.
   * A group never created has parked nothing (as on EventStoreDB): an API-only process may ask first.
   */
  listParked(name: string, limit: number): ParkedEvent[] {
    return this.parkedRows(name, limit);
  }

  replayParked(name: string): number {
    const group = this.get(name);
    const entries = this.parkedRows(name, -1).map((r) => ({ event: r.event, retryCount: 0, deadline: 0, replayed: true }));
    group.replay(entries);
    return entries.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const consumer of [...this.consumers]) await consumer.close();
    const save = this.db.prepare('UPDATE ps_groups SET checkpoint = ? WHERE name = ? AND checkpoint < ?');
    for (const group of this.groups.values()) {
      try {
        save.run(group.checkpoint, group.name, group.checkpoint);
      } catch (error) {
        // A full disk: the last checkpoint written (at most 100 ms older) stands; nothing is lost.
        this.logger?.warn({ err: error, group: group.name, checkpoint: group.checkpoint }, 'cannot save the group\'s last checkpoint on close; the events after the one saved before are handed out again at the next start, where deliveries already recorded are not sent again');
      }
    }
  }
}
