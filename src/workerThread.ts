/** Entry of the embedded default's background threads, delivery or projections (see backendThread.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import type { Logger } from './ports/logger.ts';
import { STOPPED_PAST_DEADLINE, type BackendThreadData, type FromWorker, type ToWorker } from './backendThread.ts';
import { closeProviders, StopBudget, StopDeadlineError } from './stopDeadline.ts';
import { createLogger } from './logger.ts';
import { ConfigError } from './configError.ts';
import { openStores } from './adapters/stores.ts';
import { WriteLock } from './adapters/eventStore/sqlite/writeLock.ts';
import { DurableMarks } from './adapters/eventStore/sqlite/durability.ts';
import { WAL_FALLBACK_PAGES } from './adapters/eventStore/sqlite/walCheckpointer.ts';
import { providersFromConfig } from './adapters/providers/fromConfig.ts';
import { startBackend } from './backend.ts';
import { Metrics } from './metrics.ts';
import { ROUTES } from './ports/deliveryProvider.ts';
import { emailAdditions, loadTrackingConfig } from './tracking/config.ts';
import { lowerThreadPriority, threadId } from './threadPriority.ts';

const port = parentPort!;
const { part, config, providersModule, writeLock, durableMarks } = workerData as BackendThreadData;
const logger = createLogger(config.logLevel).child({ thread: part });
const delivers = part === 'delivery';
const post = (message: FromWorker) => port.postMessage(message);
const tid = threadId();
lowerThreadPriority(config.backgroundNice, tid, logger);

async function providers(): Promise<Record<Route, DeliveryProvider>> {
  if (!providersModule) return providersFromConfig(config, logger);
  const module = (await import(providersModule.url)) as { createProviders(args: unknown, logger: Logger): Record<Route, DeliveryProvider> };
  return module.createProviders(providersModule.args, logger);
}

try {
  // The main thread runs a WalCheckpointer for the embedded event store, the only one with these threads.
  const { events, readModels } = await openStores(config, logger, { writeLock: new WriteLock(writeLock), durableMarks: new DurableMarks(durableMarks), selfCheckpointPages: WAL_FALLBACK_PAGES });
  const delivery: Partial<Record<Route, DeliveryProvider>> = delivers ? await providers() : {};
  // Process-wide metrics (memory, CPU) come from the main thread's registry; these are summed into it.
  const metrics = new Metrics({ processMetrics: false });
  const tracking = loadTrackingConfig(config.env, config.dataDir);
  const backend = await startBackend(config, { worker: delivers, projector: !delivers }, {
    events, readModels, providers: delivery, logger, now: () => new Date(), metrics, callbackSecret: tracking.secret, ...emailAdditions(tracking),
  });
  metrics.watchEventStore(events, () => backend.groups);
  if (!delivers) metrics.watchProjections(events, backend.projector);

  port.on('message', (message: ToWorker) => {
    const reply = (value: unknown) => post({ kind: 'reply', id: message.id, value });
    if (message.kind === 'ready') void backend.ready().then(reply, () => reply({ background: false }));
    if (message.kind === 'metrics') void metrics.registry.getMetricsAsJSON().then(reply, () => reply([]));
    if (message.kind === 'stop') {
      // What is left of the stop's one deadline, counted from now: this thread's clock is not the main thread's.
      const budget = new StopBudget(config.stopTimeoutMs, message.leftMs);
      void (async () => {
        try {
          await backend.stop(budget);
        } finally {
          // Past the stop's deadline too: closing the stores saves the groups' checkpoints and hands back what is unsettled.
          await closeProviders(Object.values(delivery), budget);
          await readModels.close();
          await events.close();
        }
      })().then(() => reply(true), (error: unknown) => {
        if (error instanceof StopDeadlineError) return reply(STOPPED_PAST_DEADLINE);
        logger.error({ err: error }, 'unclean stop of the background thread');
        reply(false);
      });
    }
  });
  post({ kind: 'started', providers: ROUTES.flatMap((route) => (delivery[route] ? [{ route, id: delivery[route].id }] : [])), ...(tid === undefined ? {} : { tid }) });
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error), configError: error instanceof ConfigError });
}
