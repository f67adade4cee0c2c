/**
 * The background half of Herald: projections, delivery workers, the scheduler and the dead-letter
 * alert. It runs wherever the role puts it: in the API's process (roles all, worker, projector),
 * or on its own thread beside the API (the embedded default, see backendThread.ts).
 */
import type { EventStore } from './ports/eventStore.ts';
import type { ReadModelStore } from './ports/readModelStore.ts';
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import type { Logger } from './ports/logger.ts';
import type { Config } from './config.ts';
import { RateLimiter } from './processors/rateLimiter.ts';
import { DeliveryProcessor } from './processors/deliveryProcessor.ts';
import { LANES } from './processors/deliveryGroups.ts';
import { Projector } from './processors/projector.ts';
import { Scheduler } from './processors/scheduler.ts';
import { DeadLetterAlert } from './processors/deadLetterAlert.ts';
import { PROJECTIONS } from './projections/index.ts';
import { groupsReady } from './http/routes/operations.ts';
import type { CallbackMetrics, DeliveryMetrics } from './ports/metrics.ts';
import type { EmailTrackingOptions } from './tracking/emailTracking.ts';
import { CallsInFlight, settlesWithin, StopBudget, StopDeadlineError } from './stopDeadline.ts';
import type { ListUnsubscribeOptions } from './tracking/listUnsubscribe.ts';
import { CallbackProcessor } from './processors/callbackProcessor.ts';
import { loadCallbackConfig } from './callbacks/config.ts';

export interface BackendDeps {
  events: EventStore;
  readModels: ReadModelStore;
  /** Every route's provider where this backend delivers (part `worker`); unused otherwise. */
  providers: Partial<Record<Route, DeliveryProvider>>;
  logger: Logger;
  now: () => Date;
  metrics: DeliveryMetrics & Partial<CallbackMetrics>;
  emailTracking?: EmailTrackingOptions;
  listUnsubscribe?: ListUnsubscribeOptions;
  /** The server secret apps' callback secrets derive from (the tracking secret); absent: no status callbacks from this backend. */
  callbackSecret?: Buffer;
}

export interface Backend {
  /** The persistent subscription groups this backend consumes. */
  groups: readonly string[];
  projector: Projector;
  ready(): Promise<Record<string, boolean>>;
  /**
   * Stops the delivery workers, the scheduler and the alert, within what is left of the stop's
   * deadline; rejects with a StopDeadlineError when the workers did not stop within it.
   */
  stopDelivery(budget: StopBudget): Promise<void>;
  /** Stops the projector, its checkpoints written (the outcomes recorded before the deadline stay applied). */
  stopProjector(): Promise<void>;
  /** Both, in that order, so that the projector applies the outcomes the workers appended while stopping; the projector is stopped either way. */
  stop(budget?: StopBudget): Promise<void>;
}

function providerFor(providers: BackendDeps['providers'], route: Route): DeliveryProvider {
  const provider = providers[route];
  if (!provider) throw new Error(`no delivery provider for route ${route}: the delivery side needs one per route it works`);
  return provider;
}

export async function startBackend(config: Config, parts: { worker: boolean; projector: boolean }, deps: BackendDeps): Promise<Backend> {
  const { events, readModels, providers, logger, now, metrics } = deps;
  const gather = { minMs: Math.min(20, config.projectorMaxPauseMs), maxMs: config.projectorMaxPauseMs };
  const projector = new Projector(events, readModels, PROJECTIONS, logger.child({ component: 'projector' }), gather);
  if (parts.projector) await projector.start();
  const calls = new CallsInFlight();
  const processors = parts.worker
    ? config.workerRoutes.flatMap((route) => {
      const provider = calls.track(providerFor(providers, route));
      // One limiter for both lanes: a provider's rate is per account or sender, not per lane.
      const limiter = provider.limits.ratePerSecond ? { limiter: new RateLimiter(provider.limits.ratePerSecond) } : {};
      return LANES.map((lane) => new DeliveryProcessor({ events, provider, logger, now, batchWindowMs: config.batchWindowMs, retryPolicy: config.retry, lane, metrics, ...limiter, ...(deps.emailTracking ? { emailTracking: deps.emailTracking } : {}), ...(deps.listUnsubscribe ? { listUnsubscribe: deps.listUnsubscribe } : {}) }));
    })
    : [];
  for (const p of processors) await p.start();
  const scheduler = parts.worker ? new Scheduler(events, readModels, logger.child({ component: 'scheduler' }), now, config.schedulerTickMs) : undefined;
  scheduler?.start();
  const alert = parts.worker ? new DeadLetterAlert(events, readModels, logger.child({ component: 'alerts' }), { threshold: config.alerts.deadLetterThreshold, intervalMs: config.alerts.intervalMs, ...(config.alerts.webhookUrl ? { webhookUrl: config.alerts.webhookUrl } : {}) }) : undefined;
  alert?.start();
  // Status callbacks to apps run beside the delivery workers, on a group of their own.
  const callbacks = parts.worker && deps.callbackSecret ? new CallbackProcessor({ events, logger, serverSecret: deps.callbackSecret, config: loadCallbackConfig(config.env), ...(metrics.callbacks ? { metrics: metrics as CallbackMetrics } : {}) }) : undefined;
  await callbacks?.start();
  const groups = [...processors.map((p) => p.group), ...(callbacks ? [callbacks.group] : [])];
  const stopDelivery = async (budget: StopBudget): Promise<void> => {
    alert?.stop();
    if (!scheduler && processors.length === 0 && !callbacks) return;
    const drained = await settlesWithin((async () => {
      await scheduler?.stop();
      await Promise.all([...processors.map((p) => p.stop()), callbacks?.stop()]);
    })(), budget.left());
    if (drained) return;
    const inFlight = calls.byRoute();
    const count = Object.values(inFlight).reduce((sum, n) => sum + n, 0);
    logger.error({ inFlight, deadlineMs: budget.deadlineMs }, `stop deadline passed with ${count} ${count === 1 ? 'message' : 'messages'} still with their provider (${Object.entries(inFlight).map(([route, n]) => `${route}: ${n}`).join(', ') || 'none: a worker or the scheduler did not stop'}): their events are handed back to their groups as the stores close and sent at the next start, so some may arrive twice`);
    throw new StopDeadlineError(budget.deadlineMs, ['delivery'], inFlight);
  };
  return {
    groups,
    projector,
    ready: () => groupsReady(events, groups),
    stopDelivery,
    stopProjector: () => projector.stop(),
    async stop(budget = new StopBudget(config.stopTimeoutMs)) {
      try {
        await stopDelivery(budget);
      } finally {
        await projector.stop();
      }
    },
  };
}
