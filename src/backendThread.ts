/**
 * The embedded default on three threads: the API keeps the main thread; delivery workers, the
 * scheduler and the dead-letter alert run on one worker thread, the projector on another, each
 * with its own connections to the same SQLite files (linked: see
 * adapters/eventStore/sqlite/threadLink.ts). One process still, so `npm start` stays one command,
 * but the background work runs beside the API on the second core, a burst of deliveries does not
 * delay the 202s, and a large read-model commit does not delay deliveries.
 *
 * The main thread talks to each worker over its MessagePort: readiness, metrics and stop.
 */
import { tsWorker } from './tsWorker.ts';
import { ConfigError } from './configError.ts';
import type { Config } from './config.ts';
import type { Logger } from './ports/logger.ts';
import type { Route } from './ports/deliveryProvider.ts';
import { STORES_CLOSE_MS, StopDeadlineError, type StopBudget } from './stopDeadline.ts';
import { withinDeadline } from './withinDeadline.ts';

/** Where the worker thread gets its providers from when not from the configuration (the benchmark's fakes). */
export interface ProvidersModule {
  /** A module URL exporting `createProviders(args, logger): Record<Route, DeliveryProvider>`. */
  url: string;
  args: unknown;
}

/** What one background thread runs: the delivery side (workers, scheduler, alert) or the projector. */
export type BackendPart = 'delivery' | 'projections';

export interface BackendThreadData {
  part: BackendPart;
  config: Config;
  /** The event store's write lock (WriteLock), shared with the main thread's store. */
  writeLock: SharedArrayBuffer;
  /** The event store's DurableMarks, shared likewise. */
  durableMarks: SharedArrayBuffer;
  providersModule?: ProvidersModule;
}

/** What the main thread asks a worker; `stop` carries what is left of the stop's deadline, in ms. */
type Request = { kind: 'ready' | 'metrics' } | { kind: 'stop'; leftMs: number };
export type ToWorker = Request & { id: number };
/** The worker's answer to `stop` when its workers did not stop within the deadline (else true, or false when unclean). */
export const STOPPED_PAST_DEADLINE = 'past_deadline';
export type FromWorker =
  | { kind: 'started'; providers: { route: Route; id: string }[]; tid?: number }
  | { kind: 'failed'; message: string; configError: boolean }
  | { kind: 'reply'; id: number; value: unknown };

export interface BackendThread {
  part: BackendPart;
  /** The delivery thread's providers (none on the projections thread). */
  providers: { route: Route; id: string }[];
  /** Its kernel thread id on Linux (for `top -H`, perf, per-thread CPU); absent elsewhere. */
  tid?: number;
  /** The young generation V8 gave the thread, in MB (HERALD_SEMI_SPACE_MB × 3), as Node reports it. */
  youngGenerationMb: number;
  ready(): Promise<Record<string, boolean>>;
  /** The worker's metrics (deliveries, retries, subscription gauges) as prom-client JSON, to aggregate. */
  metrics(): Promise<object[]>;
  /** Stops the thread within what is left of the stop's deadline; past it, waits STORES_CLOSE_MS for its stores' close, then terminates it. */
  stop(budget: StopBudget): Promise<void>;
}

/** Starts the worker thread and resolves once its backend runs; a thread that dies later ends the process. */
export function startBackendThread(data: BackendThreadData, logger: Logger, onCrash: (error: Error) => void): Promise<BackendThread> {
  // V8 sizes a young generation as two semi-spaces plus as much again for large objects.
  const resourceLimits = { maxYoungGenerationSizeMb: 3 * data.config.backgroundSemiSpaceMb };
  const worker = tsWorker(new URL('./workerThread.ts', import.meta.url), { resourceLimits, workerData: { ...data, config: { ...data.config, env: { ...data.config.env } } } satisfies BackendThreadData });
  const waiting = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  let stopping = false;
  const ask = (message: Request) =>
    new Promise<unknown>((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      worker.postMessage({ ...message, id } satisfies ToWorker);
    });

  return new Promise((resolve, reject) => {
    let started = false;
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'reply') {
        waiting.get(message.id)?.(message.value);
        waiting.delete(message.id);
      } else if (message.kind === 'failed') {
        void worker.terminate();
        reject(message.configError ? new ConfigError(message.message) : new Error(message.message));
      } else {
        started = true;
        resolve({
          part: data.part,
          providers: message.providers,
          ...(message.tid === undefined ? {} : { tid: message.tid }),
          youngGenerationMb: worker.resourceLimits?.maxYoungGenerationSizeMb ?? 0,
          ready: async () => (await ask({ kind: 'ready' })) as Record<string, boolean>,
          metrics: async () => (await ask({ kind: 'metrics' })) as object[],
          async stop(budget) {
            stopping = true;
            // The worker bounds its own stop by the deadline; this bounds a worker that cannot even answer (its stores' close hanging).
            const answer = (await withinDeadline(budget.left(STORES_CLOSE_MS), ask({ kind: 'stop', leftMs: budget.left() })))?.value;
            if (answer === undefined) logger.error({ thread: data.part, deadlineMs: budget.deadlineMs, pastDeadlineMs: STORES_CLOSE_MS }, `the ${data.part} thread did not answer its stop: terminated with its stores open (the checkpoints last saved stand; the events it held after them are handed out again at the next start)`);
            await worker.terminate();
            if (answer === STOPPED_PAST_DEADLINE || answer === undefined) throw new StopDeadlineError(budget.deadlineMs, [data.part]);
            // false: the thread logged why; the process must not then say it stopped cleanly and exit 0.
            if (answer === false) throw new Error(`the ${data.part} thread did not stop cleanly (its error line above says why)`);
          },
        });
      }
    });
    worker.on('error', (error) => {
      if (!started) return reject(error);
      logger.error({ err: error, thread: data.part }, `the ${data.part} thread crashed`);
      onCrash(error);
    });
    worker.on('exit', (code) => {
      for (const resolveWaiting of waiting.values()) resolveWaiting(code === 0 ? {} : { [data.part]: false });
      waiting.clear();
      if (!stopping && started) onCrash(new Error(`the ${data.part} thread exited with code ${code}`));
      if (!started) reject(new Error(`the ${data.part} thread exited with code ${code} before it started`));
    });
  });
}
