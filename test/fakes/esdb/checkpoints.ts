/**
 * Test fixture, not product: the checkpoint events the EventStoreDB test server writes into $all.
 * ESDB keeps a persistent subscription group's checkpoint as an event of its own log: each time
 * the checkpoint moves, it appends a `$SubscriptionCheckpoint` to
 * `$persistentsubscription-<subscriptionId>-checkpoint`, where the id of a group on $all is
 * `$all::<group>` (KurrentDB, src/KurrentDB.Core/Services/PersistentSubscription/
 * PersistentSubscriptionCheckpointWriter.cs). So $all's last commit position is a system event's
 * whenever a group has just checkpointed, which is what makes "the head" of $all move on while
 * nothing new happens. The engine keeps the checkpoint itself; this writes the event after it.
 */
import type { SqliteEventStore } from '../../../src/adapters/eventStore/sqlite/sqliteEventStore.ts';
import { toWire } from './proto.ts';
import { readBackwards } from './streams.ts';

const isSystem = (e: { type: string; streamName: string }) => e.type.startsWith('$') || e.streamName.startsWith('$');

/**
 * The checkpoint ESDB reports for a group: the position of the last event the group processed.
 * The engine checkpoints past system events too (it reads them, and the Read handler settles those
 * outside the group's filter), but ESDB's server-side filter never lets its own events into a
 * group, so they never become its checkpoint: the last event at or before the engine's that is
 * not a system event stands for it.
 */
export async function reportedCheckpoint(store: SqliteEventStore, engineCheckpoint: number): Promise<number> {
  for (let before = engineCheckpoint + 1; before > 1; ) {
    const page = await readBackwards(store, before, 64);
    const found = page.find((e) => !isSystem(e));
    if (found) return found.position;
    if (page.length < 64) return 0;
    before = page.at(-1)!.position;
  }
  return 0;
}

export class CheckpointEvents {
  private readonly written = new Map<string, number>();

  constructor(private readonly store: SqliteEventStore) {}

  /**
   * After the group's consumers settled events: when the engine's checkpoint moved onto an event
   * that is not a system event, writes it down. (The engine reads system events as any other and
   * checkpoints past them; writing a checkpoint for those would make each checkpoint event the
   * cause of the next one.)
   */
  async settled(group: string, engine: string): Promise<void> {
    const { checkpoint } = await this.store.persistentSubscriptionInfo(engine);
    if (checkpoint <= (this.written.get(engine) ?? 0)) return;
    this.written.set(engine, checkpoint);
    const [at] = await this.store.readAll({ fromPosition: checkpoint - 1, maxCount: 1 });
    if (!at || at.position !== checkpoint || isSystem(at)) return;
    const position = `C:${toWire(checkpoint)}/P:${toWire(checkpoint)}`;
    await this.store.append(`$persistentsubscription-$all::${group}-checkpoint`, [{ type: '$SubscriptionCheckpoint', data: { position } }], 'any');
  }
}
