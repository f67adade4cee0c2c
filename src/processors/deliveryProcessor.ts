import { setMaxListeners } from 'node:events';
import { bufferTime, filter, from, lastValueFrom, mergeMap } from 'rxjs';
import type { DeliveryResult } from '../ports/deliveryProvider.ts';
import { EventNotHeldError, type PersistentEvent, type PersistentSubscription } from '../ports/eventStore.ts';
import type { Logger } from '../ports/logger.ts';
import type { NotificationEvent } from '../domain/notification.ts';
import { RateLimiter } from './rateLimiter.ts';
import { sendBatch } from './batchSend.ts';
import { recordSettlement } from '../settlementMetrics.ts';
import { planDelivery, type Job } from './deliveryPlan.ts';
import { deliveryMaxInFlight, deliveryMessageTimeoutMs, MESSAGE_TIMEOUT_MS } from './deliveryInFlight.ts';
import { isStoreOutage, OutageWarnings, outageWaitMs, waitOutOutage } from './storeOutage.ts';
import { noLongerWanted, RECHECK_AFTER_MS } from './waitedJobs.ts';
import { DELIVERY_TRIGGERS, deliveryGroup } from './deliveryGroups.ts';
import type { DeliveryProcessorOptions } from './deliveryProcessorOptions.ts';
import { settleDelivery } from './settleDelivery.ts';

/**
 * One route's delivery worker: a competing consumer of the route's persistent subscription group.
 * rxjs shapes the flow: gather up to a provider batch or a short window, then call the provider
 * with bounded concurrency; every notification's outcome is appended before its event is acked.
 */
export class DeliveryProcessor {
  private sub?: PersistentSubscription;
  private done?: Promise<void>;
  private readonly limiter?: RateLimiter;
  private readonly rate: number | undefined;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  /**
   * Positions of the events this worker holds, from the moment it takes one until it has acked or
   * nacked it. An event handed out again meanwhile (its message timed out: it waited its turn
   * behind a slow provider, or its outcome is being recorded through a store outage) is the same
   * delivery: it is neither prepared nor sent again.
   */
  private readonly held = new Set<number>();
  private readonly outage: OutageWarnings;
  /** The group's wait for an ack (deliveryInFlight.ts), and what sendBatch checks a job against before its call. */
  private readonly ackWaitMs: number;
  private readonly ackWait: { messageTimeoutMs: number; callBoundMs: number } | undefined;
  /** Deliveries this worker took but, stopping, gave back unsent. */
  private handedBack = 0;

  constructor(private readonly o: DeliveryProcessorOptions) {
    const rate = o.ratePerSecond ?? o.provider.limits.ratePerSecond;
    this.rate = rate || undefined;
    if (this.rate) this.limiter = o.limiter ?? new RateLimiter(this.rate);
    this.log = o.logger.child({ route: o.provider.route, provider: o.provider.id, lane: o.lane ?? 'normal' });
    this.outage = new OutageWarnings(this.log);
    // Every limiter wait and outage wait listens on it, more than Node's default 10 at a time.
    setMaxListeners(0, this.stopping.signal);
    const callBoundMs = o.provider.callBoundMs;
    this.ackWaitMs = deliveryMessageTimeoutMs({ maxBatchSize: o.provider.maxBatchSize, concurrency: o.concurrency ?? o.provider.limits.concurrency, callBoundMs }, o.messageTimeoutMs ?? MESSAGE_TIMEOUT_MS);
    this.ackWait = callBoundMs === undefined ? undefined : { messageTimeoutMs: this.ackWaitMs, callBoundMs };
  }

  /** How long the group waits for an ack: past the provider's calls of full batches (deliveryInFlight.ts). */
  get messageTimeoutMs(): number {
    return this.ackWaitMs;
  }

  get group(): string {
    return deliveryGroup(this.o.provider.route, this.o.lane);
  }

  async start(): Promise<void> {
    const { events, provider } = this.o;
    const route = provider.route;
    await events.ensurePersistentSubscription(this.group, {
      // Only this route's events reach the group: requests name their routes, retries and redrives their route.
      filter: {
        eventTypes: this.o.lane === 'priority' ? ['NotificationExpedited'] : DELIVERY_TRIGGERS,
        dataMatches: [{ field: 'routes', value: route }, { field: 'route', value: route }],
      },
      maxInFlight: deliveryMaxInFlight(provider.maxBatchSize, this.rate, this.messageTimeoutMs),
      messageTimeoutMs: this.messageTimeoutMs,
      maxRetryCount: 10,
    });
    const sub = events.connectPersistentSubscription(this.group);
    this.sub = sub;
    const pipeline = from(sub).pipe(
      mergeMap((pe) => this.prepare(pe)),
      filter((job): job is Job => job !== null),
      bufferTime(this.o.batchWindowMs ?? 20, null, provider.maxBatchSize),
      filter((batch) => batch.length > 0),
      mergeMap((batch) => this.deliver(batch), this.o.concurrency ?? provider.limits.concurrency),
    );
    this.done = lastValueFrom(pipeline, { defaultValue: undefined }).then(() => undefined);
  }

  /** A job for the event unless this worker holds it already; held until settled (see `held`). */
  private async prepare(pe: PersistentEvent): Promise<Job | null> {
    const { position } = pe.event;
    if (this.held.has(position)) return null;
    this.held.add(position);
    const job = await this.prepareHeld(pe);
    if (job === null) this.held.delete(position);
    return job;
  }

  /** Acts on the event's plan: acks what needs no send (counting what was settled), returns a send's job. */
  private async prepareHeld(pe: PersistentEvent): Promise<Job | null> {
    const sub = this.sub!;
    try {
      const plan = await planDelivery(this.o, pe);
      if (plan.kind === 'send') return plan.job;
      if (plan.kind === 'settled') this.settledEarly(plan.events, pe);
      await sub.ack(pe);
      return null;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (isStoreOutage(error)) {
        const wait = outageWaitMs(pe.retryCount);
        this.outage.warn({ err: error, position: pe.event.position }, `the event store cannot be used now; this delivery is tried again in ${wait / 1000} s`);
        if (await waitOutOutage(wait, this.stopping.signal)) await sub.nack('retry', reason, pe).catch(() => undefined);
        return null;
      }
      if (error instanceof EventNotHeldError) {
        // The connection it came on is gone: nothing to park or settle here, the group hands it out again.
        this.log.warn({ err: error, position: pe.event.position }, 'the event was handed back before this worker settled it; it is delivered again');
        return null;
      }
      this.log.error({ err: error, position: pe.event.position }, 'cannot prepare delivery; parking the event');
      await sub.nack('park', reason, pe).catch((err: unknown) => this.log.error({ err, position: pe.event.position }, 'could not park the event; it is delivered again after its message timeout'));
      return null;
    }
  }

  /** Counts what a delivery settled without calling the provider (suppressed, or failed as expired). */
  private settledEarly(appended: readonly NotificationEvent[], pe: PersistentEvent): void {
    if (this.o.metrics) recordSettlement(this.o.metrics, this.o.provider.route, this.o.provider.id, appended, this.o.now().getTime() - pe.event.created);
  }

  private async deliver(jobs: Job[]): Promise<void> {
    const recheck = { afterMs: RECHECK_AFTER_MS, drop: (waited: readonly Job[]) => noLongerWanted({ ...this.o, log: this.log, settled: (events, job) => this.settledEarly(events, job.pe) }, waited) };
    const { answered, unsent, dropped, stale } = await sendBatch(jobs, { provider: this.o.provider, limiter: this.limiter, stopping: this.stopping.signal, log: this.log, recheck, ackWait: this.ackWait });
    await Promise.all([...answered.map(({ job, results }) => this.settle(job, results)), ...unsent.map((job) => this.handBack(job)), ...dropped.map((job) => this.letGo(job)), ...stale.map((job) => this.planAgain(job))]);
  }

  /**
   * Hands back a job whose addresses changed while it waited, or that waited so long its calls could
   * not end before the group hands its event out again: delivered again, it is planned afresh.
   */
  private async planAgain(job: Job): Promise<void> {
    // Let go before the nack: handed straight back to this worker, it must not be taken for one still held.
    this.held.delete(job.pe.event.position);
    await this.sub!.nack('release', 'not sent as planned: its addresses changed, or it waited too long for its turn; planned again', job.pe).catch(() => undefined);
  }

  /** Acks a job its check dropped unsent; an ack that does not count hands it out again, and its check then finds it settled. */
  private async letGo(job: Job): Promise<void> {
    await this.sub!.ack(job.pe).catch((err: unknown) => this.log.warn({ err, notificationId: job.notificationId }, 'cannot ack a delivery dropped unsent; it is handed out again and found settled'));
    this.held.delete(job.pe.event.position);
  }

  /** Lets go of a job the worker stopped before sending: the group hands it out again, to another instance or at the next start. */
  private async handBack(job: Job): Promise<void> {
    this.handedBack += 1;
    // Not a retry: it was never tried (on EventStoreDB it counts all the same; see NackAction).
    await this.sub!.nack('release', 'the worker stopped before sending it', job.pe).catch(() => undefined);
    this.held.delete(job.pe.event.position);
  }

  /** Records what the provider answered and acks the event (settleDelivery.ts). */
  private settle(job: Job, results: DeliveryResult[]): Promise<void> {
    return settleDelivery({ o: this.o, log: this.log, sub: this.sub!, stopping: this.stopping.signal, outage: this.outage, held: this.held }, job, results);
  }

  /**
   * Stops taking work, lets the provider calls under way finish and settle over the same
   * connection, then closes, which hands back the rest. Closing first would hand the events still
   * being sent to another instance at once (EventStoreDB does), which would send them again. What
   * is not yet with the provider (waiting for the rate limiter, or its turn) is handed back at
   * once, unsent (nack 'release', not counted as a retry where the store can tell): a route at
   * 1 SMS/s would otherwise stop only after sending it all.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.sub?.stopTaking();
    try {
      await this.done;
    } finally {
      const n = this.handedBack;
      if (n > 0) this.log.info({ handedBack: n }, `stopped before sending ${n} ${n === 1 ? 'delivery' : 'deliveries'}: handed back unsent, for another instance or the next start to send`);
      await this.sub?.close();
    }
  }
}
