import type { FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import type { EventStore } from './ports/eventStore.ts';
import type { ReadModelStore } from './ports/readModelStore.ts';
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import { ROUTES } from './ports/deliveryProvider.ts';
import type { Config } from './config.ts';
import { openStores } from './adapters/stores.ts';
import { providersFromConfig } from './adapters/providers/fromConfig.ts';
import { buildApp } from './http/app.ts';
import { ApiKeys } from './http/apiKeys.ts';
import { DeliveryProcessor, LANES, deliveryGroup } from './processors/deliveryProcessor.ts';
import { Metrics } from './metrics.ts';
import { groupsReady } from './http/routes/operations.ts';
import { Projector } from './processors/projector.ts';
import { Scheduler } from './processors/scheduler.ts';
import { DeadLetterAlert } from './processors/deadLetterAlert.ts';
import { PROJECTIONS } from './projections/index.ts';
import { loadTrackingConfig } from './tracking/config.ts';

export interface Herald {
  app?: FastifyInstance;
  events: EventStore;
  readModels: ReadModelStore;
  providers: Record<Route, DeliveryProvider>;
  /** Shown once on first start when no HERALD_API_KEY was given. */
  generatedApiKey?: string;
  stop(): Promise<void>;
}

export interface Overrides {
  providers?: Partial<Record<Route, DeliveryProvider>>;
  /** The clock every command, scheduler and processor reads (tests move it forward). */
  now?: () => Date;
}

/** Wires the stores, projections, delivery processors and HTTP API for the configured role. */
export async function startHerald(config: Config, logger: Pino, overrides: Overrides = {}): Promise<Herald> {
  const { events, readModels } = await openStores(config, logger);
  const now = overrides.now ?? (() => new Date());
  const ids = { next: () => uuidv7() };
  const providers = { ...providersFromConfig(config, logger), ...overrides.providers };
  const tracking = loadTrackingConfig(config.env, config.dataDir);
  const runs = { api: config.role === 'all' || config.role === 'api', worker: config.role === 'all' || config.role === 'worker', projector: config.role === 'all' || config.role === 'projector' };

  const projector = new Projector(events, readModels, PROJECTIONS, logger.child({ component: 'projector' }));
  if (runs.projector) await projector.start();
  const metrics = new Metrics();
  metrics.watchEventStore(events, () => ROUTES.flatMap((route) => LANES.map((lane) => deliveryGroup(route, lane))));
  const processors = runs.worker
    ? config.workerRoutes.flatMap((route) => LANES.map((lane) => new DeliveryProcessor({ events, provider: providers[route], logger, now, batchWindowMs: config.batchWindowMs, retryPolicy: config.retry, lane, metrics, ...(tracking.emailTracking ? { emailTracking: tracking } : {}) })))
    : [];
  for (const p of processors) await p.start();
  const scheduler = runs.worker ? new Scheduler(events, readModels, logger.child({ component: 'scheduler' }), now, config.schedulerTickMs) : undefined;
  scheduler?.start();
  const alert = runs.worker ? new DeadLetterAlert(events, readModels, logger.child({ component: 'alerts' }), { threshold: config.alerts.deadLetterThreshold, intervalMs: config.alerts.intervalMs, ...(config.alerts.webhookUrl ? { webhookUrl: config.alerts.webhookUrl } : {}) }) : undefined;
  alert?.start();

  let app: FastifyInstance | undefined;
  let generatedApiKey: string | undefined;
  if (runs.api) {
    const apiKeys = new ApiKeys(events, now, logger.child({ component: 'keys' }));
    generatedApiKey = (await apiKeys.init(config.apiKey)).generatedKey;
    app = await buildApp({ events, readModels, apiKeys, now, ids, logger, limits: config.limits, security: config.security, metrics, readiness: () => groupsReady(events, processors.map((p) => p.group)), tracking, policy: { defaultRateLimit: config.defaultRateLimit } });
  }

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await app?.close();
      alert?.stop();
      await scheduler?.stop();
      await Promise.all(processors.map((p) => p.stop()));
      await projector.stop();
      await Promise.all(Object.values(providers).map((p) => p.close()));
      await readModels.close();
      await events.close();
    })());
  return { ...(app ? { app } : {}), events, readModels, providers, ...(generatedApiKey ? { generatedApiKey } : {}), stop };
}
