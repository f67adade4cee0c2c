import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Route } from '../ports/deliveryProvider.ts';
import { handle } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { notificationStream } from '../domain/notification.ts';
import { schedule, type ScheduleDoc } from '../projections/schedule.ts';
import { HeldBack } from './heldBack.ts';
import { LogEvery } from '../logEvery.ts';
import { isStoreOutage } from './storeOutage.ts';

/** Due entries taken per tick, oldest first. */
const BATCH = 500;

/**
 * Turns due times into events: every tick it asks the schedule read model what is due and appends
 * DeliveryDue to each notification's stream. The schedule is built from the events, so a due time
 * survives any restart; the decider ignores a DeliveryDue already made, so two schedulers (or a
 * lagging read model) never cause a second attempt.
 *
 * An entry the decider refuses (already made due, the route settled) or whose stream fails (an
 * event another version wrote) is held back for a while, and the next ticks read past it: a pile
 * of such entries never holds up the ones due after them.
 */
export class Scheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private readonly heldBack: HeldBack;
  /** Through an event store outage every entry fails alike: one line a minute for all of them. */
  private readonly outage = new LogEvery();
  /** And when it is back they all go through at once: one line a minute for those too. */
  private readonly recovered = new LogEvery();

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly tickMs = 250,
  ) {
    this.heldBack = new HeldBack(tickMs);
  }

  start(): void {
    const loop = () => {
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.logger.error({ err: error }, 'scheduler tick failed; trying again'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(loop, this.tickMs);
        });
    };
    this.timer = setTimeout(loop, this.tickMs);
  }

  /** Marks what is due; returns the DeliveryDue events appended. */
  async tick(): Promise<number> {
    const clock = this.now();
    const now = clock.toISOString();
    const nowMs = clock.getTime();
    const limit = BATCH + this.heldBack.size;
    const docs = await this.readModels.find(schedule.collection.name, { range: { field: 'nextDueAt', lte: now }, orderBy: { field: 'nextDueAt', direction: 'asc' }, limit });
    const entries = docs.flatMap((stored) => {
      const { notificationId, due } = stored.doc as ScheduleDoc;
      return due.filter((d) => d.dueAt <= now).map((d) => ({ notificationId, route: d.route as Route, attempt: d.attempt, key: `${notificationId}/${d.route}/${d.attempt}/${d.dueAt}` }));
    });
    // Everything due was read, so a held-back entry not among it has left the schedule.
    if (docs.length < limit) this.heldBack.keepOnly(new Set(entries.map((e) => e.key)));
    let marked = 0;
    await Promise.all(
      entries
        .filter((e) => !this.heldBack.holds(e.key, nowMs))
        .map(async ({ notificationId, route, attempt, key }) => {
          try {
            const { events } = await handle(this.events, notificationStream(notificationId), notificationAggregate, { type: 'MarkDue', data: { notificationId, route, attempt } }, { now: this.now });
            if (events.length > 0) {
              marked += events.length;
              const entries = this.heldBack.release(key) ? this.recovered.due() : 0;
              if (entries > 0) this.logger.info({ notificationId, route, attempt, entries }, 'scheduled delivery made due after earlier failures (this line at most once a minute; entries counts those it stands for)');
            } else {
              // Nothing to do: usually the read model has not yet applied the DeliveryDue made last tick.
              this.heldBack.refused(key, nowMs);
            }
          } catch (error) {
            const { first, retryInMs } = this.heldBack.failed(key, nowMs);
            if (isStoreOutage(error)) {
              // Every due entry fails alike while the store cannot write: one line a minute, not one per entry.
              const entries = this.outage.due();
              if (entries > 0) this.logger.error({ err: error, entries }, 'scheduled deliveries cannot be made due while the event store cannot write; each is tried again with backoff (this line once a minute while it lasts; entries counts them)');
            } else if (first) {
              this.logger.error(
                { err: error, notificationId, route, attempt },
                `scheduled delivery could not be made due; it is tried again with backoff (next in ${retryInMs} ms), and the entries due after it go on. If the error names an unreadable event, that event needs the version of Herald that wrote it: see docs/replay.md`,
              );
            }
          }
        }),
    );
    return marked;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
