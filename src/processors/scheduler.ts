import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { Route } from '../ports/deliveryProvider.ts';
import { handle } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { notificationStream } from '../domain/notification.ts';
import { schedule, type ScheduleDoc } from '../projections/schedule.ts';

/**
 * Turns due times into events: every tick it asks the schedule read model what is due and appends
 * DeliveryDue to each notification's stream. The schedule is built from the events, so a due time
 * survives any restart; the decider ignores a DeliveryDue already made, so two schedulers (or a
 * lagging read model) never cause a second attempt.
 */
export class Scheduler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly events: EventStore,
    private readonly readModels: ReadModelStore,
    private readonly logger: Logger,
    private readonly now: () => Date,
    private readonly tickMs = 250,
  ) {}

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

  async tick(): Promise<number> {
    const now = this.now().toISOString();
    const docs = await this.readModels.find(schedule.collection.name, { range: { field: 'nextDueAt', lte: now }, orderBy: { field: 'nextDueAt', direction: 'asc' }, limit: 500 });
    let marked = 0;
    await Promise.all(
      docs.flatMap((stored) =>
        (stored.doc as ScheduleDoc).due
          .filter((d) => d.dueAt <= now)
          .map(async (d) => {
            const { notificationId } = stored.doc as ScheduleDoc;
            const { events } = await handle(this.events, notificationStream(notificationId), notificationAggregate, { type: 'MarkDue', data: { notificationId, route: d.route as Route, attempt: d.attempt } }, { now: this.now });
            marked += events.length;
          }),
      ),
    );
    return marked;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
