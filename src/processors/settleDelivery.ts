/**
 * Settling a delivery the provider has answered (deliveryProcessor.ts): its outcome and what it
 * says of the user's addresses are appended, then its event is acked; through a store outage only
 * the recording is tried again, never the send.
 */
import type { DeliveryResult } from '../ports/deliveryProvider.ts';
import { EventNotHeldError, type PersistentSubscription } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import { notificationStream, type NotificationCommand } from '../domain/notification.ts';
import { handle } from '../commands/handle.ts';
import { notificationAggregate } from '../commands/sendNotification.ts';
import { handleUserCommand } from '../commands/users.ts';
import { addressCommands, outcomeOf } from './deliveryOutcome.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './retryPolicy.ts';
import { recordSettlement } from '../settlementMetrics.ts';
import type { Job } from './deliveryPlan.ts';
import { isStoreOutage, type OutageWarnings, throughOutages } from './storeOutage.ts';
import type { DeliveryProcessorOptions } from './deliveryProcessorOptions.ts';

type RecordDelivery = Extract<NotificationCommand, { type: 'RecordDelivery' }>;

/** What settling needs of the worker: its options and log, its subscription, its stop signal, its outage warnings and the positions it holds. */
export interface Settling {
  o: DeliveryProcessorOptions;
  log: Logger;
  sub: PersistentSubscription;
  stopping: AbortSignal;
  outage: OutageWarnings;
  held: Set<number>;
}

export async function settleDelivery(w: Settling, job: Job, results: DeliveryResult[]): Promise<void> {
  const { provider, now } = w.o;
  const policy = w.o.retryPolicy ?? DEFAULT_RETRY_POLICY;
  const { position } = job.pe.event;
  // Inside the try: whatever throws, the event is nacked and let go (`held`), never left held
  // with the pipeline failed and the worker stopped.
  let outcome: ReturnType<typeof outcomeOf> | undefined;
  try {
    outcome = outcomeOf(provider.id, job.messages, results);
    const retryAfterMs = Math.max(0, ...results.map((r) => (r.status === 'failed' ? (r.retryAfterMs ?? 0) : 0)));
    const retryAt = new Date(now().getTime() + retryDelayMs(policy, job.attempt, retryAfterMs, w.o.random ?? Math.random)).toISOString();
    const kind = outcome.kind;
    const command = { type: 'RecordDelivery' as const, data: { notificationId: job.notificationId, route: provider.route, attempt: job.attempt, maxAttempts: policy.maxAttempts[provider.route], retryAt, outcome } };
    // The provider has answered: through a store outage only the recording is tried again, never
    // the send. Recording twice is harmless (the decider and the address commands are idempotent).
    await throughOutages((tries) => record(w, job, command, results, tries), w.stopping, (error, ms) => {
      w.outage.warn({ err: error, notificationId: job.notificationId }, `the provider answered (${kind}) but the event store cannot record it now; recording it again in ${ms / 1000} s, without sending again`);
    });
  } catch (error) {
    if (w.stopping.aborted && isStoreOutage(error)) {
      w.log.warn({ err: error, notificationId: job.notificationId, outcome: outcome?.kind }, 'stopping while the event store cannot record this delivery: the provider had it, but it is handed out again at the next start and sent again then');
    } else if (error instanceof EventNotHeldError) {
      // Recorded, but the ack reached no one (the connection was lost): handed out again, the recorded outcome makes it a no-op.
      w.log.warn({ err: error, notificationId: job.notificationId }, 'delivery recorded, but its event was handed back before the ack; its redelivery finds it settled and sends nothing');
    } else {
      w.log.error({ err: error, notificationId: job.notificationId }, 'cannot record the delivery outcome; will retry');
    }
    await w.sub.nack('retry', error instanceof Error ? error.message : String(error), job.pe).catch(() => undefined);
  } finally {
    w.held.delete(position);
  }
}

/** Appends the outcome (and what it says of the user's addresses), then acks the event. */
async function record(w: Settling, job: Job, command: RecordDelivery, results: DeliveryResult[], tries: number): Promise<void> {
  const { events, provider, now } = w.o;
  // A first try uses the stream as read before sending; a later one reads it again.
  const settled = await handle(events, notificationStream(job.notificationId), notificationAggregate, command, { now, ...(tries === 0 ? { known: job.loaded } : {}) });
  if (w.o.metrics) recordSettlement(w.o.metrics, provider.route, provider.id, settled.events, now().getTime() - job.pe.event.created);
  for (const address of addressCommands(job, provider.id, job.messages, results)) await handleUserCommand({ store: events, now }, address);
  w.log.debug({ notificationId: job.notificationId, attempt: job.attempt, outcome: command.data.outcome.kind }, 'delivery settled');
  await w.sub.ack(job.pe);
}
