/**
 * Test fixture, not product: the test server's persistent subscription groups to $all. ESDB's
 * settings and filter are kept here (and in a JSON file beside the database, so a restarted
 * server still knows its groups); delivery, retries, parking and checkpoints are the embedded
 * engine's. ESDB bounds in-flight events per consumer (its bufferSize), which the Read handler
 * enforces, so the engine's group-wide bound is set out of the way.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import type { RecordedEvent } from '../../../src/ports/eventStore.ts';
import { filterPredicate, fromWire, type persistentPb } from './proto.ts';

type CreateSettings = InstanceType<typeof persistentPb.CreateReq.Settings> | InstanceType<typeof persistentPb.UpdateReq.Settings>;
type AllOptions = InstanceType<typeof persistentPb.CreateReq.AllOptions>;

export interface GroupDef {
  /** A number: the position of $all it starts at (inclusive), as ESDB's start position. */
  startFrom: 'start' | 'end' | number;
  filter: { on: 'stream' | 'type' | undefined; prefixes: string[]; regex: string };
  maxRetryCount: number;
  messageTimeoutMs: number;
  readBatchSize: number;
  historyBufferSize: number;
  liveBufferSize: number;
  minCheckpointCount: number;
  maxCheckpointCount: number;
  checkpointAfterMs: number;
  /** The engine's group behind it: a group deleted and created again is a new one, with no checkpoint. */
  engine: string;
}

const ENGINE_IN_FLIGHT = 10_000;

export function settingsOf(s: CreateSettings | undefined): Omit<GroupDef, 'startFrom' | 'filter' | 'engine'> {
  return {
    maxRetryCount: s?.getMaxRetryCount() ?? 10,
    messageTimeoutMs: s?.hasMessageTimeoutMs() ? s.getMessageTimeoutMs() : Number(s?.getMessageTimeoutTicks() ?? 300_000_000) / 10_000,
    readBatchSize: s?.getReadBatchSize() ?? 20,
    historyBufferSize: s?.getHistoryBufferSize() ?? 500,
    liveBufferSize: s?.getLiveBufferSize() ?? 500,
    minCheckpointCount: s?.getMinCheckpointCount() ?? 10,
    maxCheckpointCount: s?.getMaxCheckpointCount() ?? 1000,
    checkpointAfterMs: s?.hasCheckpointAfterMs() ? s.getCheckpointAfterMs() : Number(s?.getCheckpointAfterTicks() ?? 20_000_000) / 10_000,
  };
}

export function sourceOf(all: AllOptions): Pick<GroupDef, 'startFrom' | 'filter'> {
  const f = all.getFilter();
  const expr = f?.getStreamIdentifier() ?? f?.getEventType();
  const position = all.getPosition();
  return {
    startFrom: position ? fromWire(Number(position.getCommitPosition())) : all.hasEnd() ? 'end' : 'start',
    filter: { on: f?.hasStreamIdentifier() ? 'stream' : f?.hasEventType() ? 'type' : undefined, prefixes: expr?.getPrefixList() ?? [], regex: expr?.getRegex() ?? '' },
  };
}

export class Groups {
  private readonly defs = new Map<string, GroupDef>();
  private readonly file: string;

  constructor(private readonly store: SqliteEventStore, dbFile: string) {
    this.file = `${dbFile}.esdb-groups.json`;
  }

  /** Reloads groups defined before a restart into the engine, which keeps their checkpoints. */
  async load(): Promise<void> {
    if (!existsSync(this.file)) return;
    const saved = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, GroupDef>;
    for (const [name, def] of Object.entries(saved)) await this.put(name, def);
  }

  get(name: string): GroupDef | undefined {
    return this.defs.get(name);
  }

  /** The group's filter, and its start when that is a position (events before it are not the group's). */
  matches(name: string): (e: RecordedEvent) => boolean {
    const def = this.defs.get(name);
    const f = def?.filter;
    const filter = filterPredicate(f?.on, f?.prefixes ?? [], f?.regex ?? '');
    const from = typeof def?.startFrom === 'number' ? def.startFrom : 0;
    return (e) => e.position >= from && filter(e);
  }

  /** The engine's name for the group, for its consumers, info and parked events. */
  engine(name: string): string {
    return this.defs.get(name)?.engine ?? name;
  }

  async create(name: string, def: Omit<GroupDef, 'engine'>): Promise<void> {
    await this.put(name, { ...def, engine: `${name}~${randomUUID().slice(0, 8)}` });
  }

  delete(name: string): void {
    this.defs.delete(name);
    this.save();
  }

  async put(name: string, def: GroupDef): Promise<void> {
    const { on, prefixes, regex } = def.filter;
    await this.store.ensurePersistentSubscription(def.engine, {
      // Only plain stream prefixes narrow the engine's reads; other filters are applied on delivery.
      filter: on === 'stream' && !regex ? { streamPrefixes: prefixes } : {},
      startFrom: def.startFrom === 'end' ? 'end' : 'start',
      maxRetryCount: def.maxRetryCount,
      messageTimeoutMs: def.messageTimeoutMs,
      maxInFlight: ENGINE_IN_FLIGHT,
    });
    this.defs.set(name, def);
    this.save();
  }

  private save(): void {
    writeFileSync(this.file, JSON.stringify(Object.fromEntries(this.defs)));
  }
}
