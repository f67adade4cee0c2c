import type { FastifyInstance } from 'fastify';
import type { Logger as Pino } from 'pino';
import type { EventStore } from './ports/eventStore.ts';
import type { ReadModelStore } from './ports/readModelStore.ts';
import type { DeliveryProvider, Route } from './ports/deliveryProvider.ts';
import { ROUTES } from './ports/deliveryProvider.ts';
import type { Config } from './config.ts';
import { openStores } from './adapters/stores.ts';
import { pooledUuidV7 } from './adapters/ids.ts';
import { providersFromConfig } from './adapters/providers/fromConfig.ts';
import { buildApp } from './http/app.ts';
import { ApiKeys } from './http/apiKeys.ts';
import { LANES, deliveryGroup } from './processors/deliveryGroups.ts';
import { Metrics } from './metrics.ts';
import { startBackend, type Backend } from './backend.ts';
import { startBackendThread, type BackendPart, type BackendThread, type ProvidersModule } from './backendThread.ts';
import { emailAdditions, loadTrackingConfig, publicUrlProblem, twilioWebhookProblem } from './tracking/config.ts';
import { loadSendgridConfig } from './adapters/providers/sendgrid/index.ts';
import { ConfigError } from './configError.ts';
import { WriteLock } from './adapters/eventStore/sqlite/writeLock.ts';
import { DurableMarks } from './adapters/eventStore/sqlite/durability.ts';
import { WAL_FALLBACK_PAGES, WalCheckpointer } from './adapters/eventStore/sqlite/walCheckpointer.ts';
import { lockDataDir } from './adapters/dataDirLock.ts';
import { closeProviders as closeAllProviders, StopBudget } from './stopDeadline.ts';
import { stopParts } from './stopParts.ts';
import { closerWithin } from './http/closeWithin.ts';
import { loadCallbackConfig } from './callbacks/config.ts';
import { CALLBACK_GROUP } from './processors/callbackProcessor.ts';

export interface Herald {
  app?: FastifyInstance;
  events: EventStore;
  readModels: ReadModelStore;
  /** Which provider serves each route (the objects themselves when the backend runs on this thread). */
  providers: Record<Route, Pick<DeliveryProvider, 'id' | 'route'>>;
  /** Where deliveries and projections run: this thread, or the embedded default's background threads. */
  backend: 'inline' | 'thread' | 'none';
  /**
   * On a store with no API key yet (and no HERALD_API_KEY), issues one and returns it, to be shown
   * once; else undefined. Call it once the API listens (main.ts).
   */
  issueFirstKey(): Promise<string | undefined>;
  /**
   * The embedded default's background threads: their kernel thread ids (Linux; per-thread CPU in
   * `top -H` or the benchmark) and the young generation V8 gave each.
   */
  threads?: Partial<Record<BackendPart, { tid?: number; youngGenerationMb: number }>>;
  stop(): Promise<void>;
}

export interface Overrides {
  /** In-process providers; they cannot cross to another thread, so the backend runs on this one. */
  providers?: Partial<Record<Route, DeliveryProvider>>;
  /** The clock every command, scheduler and processor reads (tests move it forward); runs the backend on this thread. */
  now?: () => Date;
  /** Providers built by a module on the delivery thread (the benchmark's fakes). */
  providersModule?: ProvidersModule;
}

/** The embedded default runs its backend on threads of its own unless HERALD_WORKER_THREAD=off or in-process overrides need this one. */
const onThread = (config: Config, overrides: Overrides) =>
  config.eventStore.kind === 'embedded' && config.role === 'all' && config.workerThread && !overrides.providers && !overrides.now;

/** Wires the stores, projections, delivery processors and HTTP API for the configured role. */
export async function startHerald(config: Config, logger: Pino, overrides: Overrides = {}): Promise<Herald> {
  const threaded = onThread(config, overrides);
  // Before anything runs: a second process on the same embedded files would deliver everything again.
  const dirLock = config.eventStore.kind === 'embedded' ? lockDataDir(config.dataDir) : undefined;
  try {
    return await startLocked(config, logger, overrides, threaded, () => dirLock?.release());
  } catch (error) {
    dirLock?.release();
    throw error;
  }
}

async function startLocked(config: Config, logger: Pino, overrides: Overrides, threaded: boolean, unlock: () => void): Promise<Herald> {
  // The threads append to the same SQLite file: a shared lock makes each wait exactly as long as
  // another's commit, and shared marks keep each thread's readers behind the others' unsynced commits.
  const shared = threaded ? { writeLock: new WriteLock(), durableMarks: new DurableMarks() } : undefined;
  const tracking = loadTrackingConfig(config.env, config.dataDir);
  // Checked here, before any thread starts, so a bad value is a ConfigError at start-up.
  loadCallbackConfig(config.env);
  // Checked before anything opens: real email whose links would all point at this machine.
  const sendsRealEmail = (config.role === 'all' || config.role === 'worker') && config.workerRoutes.includes('email') && !overrides.providers?.email && loadSendgridConfig(config.env) !== undefined;
  const linkProblem = publicUrlProblem(tracking, sendsRealEmail);
  if (linkProblem) throw new ConfigError(linkProblem);
  // And Twilio callbacks (STOP replies, receipts) whose signatures could never verify.
  const twilioProblem = twilioWebhookProblem(tracking, config.role === 'all' || config.role === 'api');
  if (twilioProblem) throw new ConfigError(twilioProblem);
  // events.db's WAL is checkpointed on a thread of its own, not in the API's commits; every writer
  // of the file holds the lock it holds for the pass that lets them restart the WAL (walCheckpointer.ts).
  const walLock = config.eventStore.kind === 'embedded' ? (shared?.writeLock ?? new WriteLock()) : undefined;
  const { events, readModels } = await openStores(config, logger, { ...shared, ...(walLock ? { writeLock: walLock, selfCheckpointPages: WAL_FALLBACK_PAGES } : {}) });
  const walCheckpointer = walLock && config.eventStore.kind === 'embedded' ? new WalCheckpointer(config.eventStore.file, walLock, logger.child({ component: 'wal-checkpoints' })) : undefined;
  const now = overrides.now ?? (() => new Date());
  const ids = pooledUuidV7();
  const runs = { api: config.role === 'all' || config.role === 'api', worker: config.role === 'all' || config.role === 'worker', projector: config.role === 'all' || config.role === 'projector' };
  const metrics = new Metrics();
  const storeFiles = [config.eventStore, config.readStore].flatMap((store) => (store.kind === 'embedded' ? [store.file] : []));
  if (storeFiles.length > 0) metrics.watchDataFiles(config.dataDir, storeFiles);

  let inline: Backend | undefined;
  let threads: BackendThread[] = [];
  let providers: Record<Route, Pick<DeliveryProvider, 'id' | 'route'>>;
  let closeProviders = async (_budget: StopBudget) => {};
  if (shared) {
    const crashed = (error: Error) => {
      logger.fatal({ err: error }, 'a background thread stopped: exiting so a supervisor restarts Herald');
      process.exit(1);
    };
    const start = (part: BackendPart) =>
      startBackendThread({ part, config, writeLock: shared.writeLock.buffer, durableMarks: shared.durableMarks.buffer, ...(overrides.providersModule ? { providersModule: overrides.providersModule } : {}) }, logger, crashed);
    // Both start at once; if either fails, the other is stopped before the error goes up.
    const started = await Promise.allSettled([start('delivery'), start('projections')]);
    threads = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      const budget = new StopBudget(config.stopTimeoutMs);
      for (const thread of threads) await thread.stop(budget);
      await readModels.close();
      await events.close();
      await walCheckpointer?.close();
      throw failed.reason;
    }
    const delivery = threads.find((t) => t.part === 'delivery')!;
    providers = Object.fromEntries(delivery.providers.map((p) => [p.route, p])) as Record<Route, Pick<DeliveryProvider, 'id' | 'route'>>;
    for (const thread of threads) metrics.addSource(() => thread.metrics());
  } else {
    const delivery = { ...providersFromConfig(config, logger), ...overrides.providers };
    providers = delivery;
    closeProviders = (budget) => closeAllProviders(Object.values(delivery), budget);
    inline = runs.worker || runs.projector
      ? await startBackend(config, runs, { events, readModels, providers: delivery, logger, now, metrics, callbackSecret: tracking.secret, ...emailAdditions(tracking) })
      : undefined;
    metrics.watchEventStore(events, () => [...ROUTES.flatMap((route) => LANES.map((lane) => deliveryGroup(route, lane))), ...(inline?.groups.includes(CALLBACK_GROUP) ? [CALLBACK_GROUP] : [])]);
    if (inline && runs.projector) metrics.watchProjections(events, inline.projector);
  }
  const threadInfo = Object.fromEntries(threads.map((t) => [t.part, { ...(t.tid === undefined ? {} : { tid: t.tid }), youngGenerationMb: t.youngGenerationMb }])) as Herald['threads'];
  logger.info({ backend: threaded ? 'thread' : inline ? 'inline' : 'none', ...(threaded ? { threads: threadInfo } : {}) }, threaded ? 'deliveries and projections run on background threads of their own' : 'deliveries and projections run on the main thread');

  let app: FastifyInstance | undefined;
  let apiKeys: ApiKeys | undefined;
  if (runs.api) {
    apiKeys = new ApiKeys(events, now, logger.child({ component: 'keys' }));
    await apiKeys.init(config.apiKey);
    const readiness = threaded
      ? async () => Object.assign({}, ...(await Promise.all(threads.map((t) => t.ready())))) as Record<string, boolean>
      : () => inline?.ready() ?? Promise.resolve({});
    app = await buildApp({ events, readModels, apiKeys, now, ids, logger, limits: config.limits, security: config.security, metrics, readiness, tracking, callbackSecret: tracking.secret, retryPolicy: config.retry, policy: { defaultRateLimit: config.defaultRateLimit, userRateLimit: config.userRateLimit } });
  }

  const closeHttp = app ? closerWithin(app, logger) : undefined;
  const thread = (part: BackendPart) => threads.find((t) => t.part === part);
  let stopped: Promise<void> | undefined;
  // One deadline for the whole stop, from its start (the signal): each part gets what is left of it.
  const stop = () =>
    (stopped ??= stopParts(new StopBudget(config.stopTimeoutMs), {
      ...(closeHttp ? { http: closeHttp } : {}),
      delivery: (budget) => thread('delivery')?.stop(budget) ?? inline?.stopDelivery(budget),
      projections: (budget) => thread('projections')?.stop(budget) ?? inline?.stopProjector(),
      // Last before the lock: the checkpointer's connection's close writes the final checkpoint and removes the WAL.
      close: [closeProviders, () => readModels.close(), () => events.close(), () => walCheckpointer?.close(), unlock],
    }));
  return { ...(app ? { app } : {}), events, readModels, providers, backend: threaded ? 'thread' : inline ? 'inline' : 'none', issueFirstKey: async () => apiKeys?.issueFirstKey(), ...(threaded ? { threads: threadInfo } : {}), stop };
}
