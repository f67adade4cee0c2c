/**
 * One benchmark Herald as `npm start` runs it: embedded default with the API on the main thread
 * and deliveries and projections on background threads, durable commits, real HTTP on
 * 127.0.0.1, SDK providers pointed at the fakes (built on the delivery thread).
 */
import { join } from 'node:path';
import { loadConfig, type Config } from '../../config.ts';
import { createLogger } from '../../logger.ts';
import { startHerald, type Herald } from '../../service.ts';
import { notificationLog } from '../../projections/notificationLog.ts';
import { PROJECTIONS } from '../../projections/index.ts';
import { checkpointName } from '../../processors/projector.ts';
import { BENCH_API_KEY, benchUser } from '../../../bench/mix.ts';
import type { BenchFakes } from './fakes.ts';

export interface BenchHerald {
  herald: Herald;
  url: string;
  config: Config;
  /** The fake providers' process (its CPU is reported apart from Herald's). */
  fakesPid: number;
  stop(): Promise<void>;
}

/** The per-app request limit and daily quota are lifted: the benchmark measures Herald's capacity, not its abuse limits. */
export function benchConfig(dir: string): Config {
  return loadConfig({
    HERALD_DATA_DIR: dir, HERALD_API_KEY: BENCH_API_KEY, HERALD_HOST: '127.0.0.1', HERALD_PORT: '0', HERALD_LOG_LEVEL: 'silent',
    HERALD_RATE_LIMIT_PER_MINUTE: '1000000000', HERALD_DAILY_SEND_QUOTA: '0',
    // The two settings taken from the environment, to measure their trade-offs (see docs/performance.md).
    ...Object.fromEntries(['HERALD_BACKGROUND_NICE', 'HERALD_SEMI_SPACE_MB'].flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]]]))),
  });
}

export async function startBenchHerald(dir: string, fakes: BenchFakes): Promise<BenchHerald> {
  const config = benchConfig(dir);
  const logger = createLogger('silent');
  const herald = await startHerald(config, logger, { providersModule: fakes.providersModule });
  if (herald.backend !== 'thread') throw new Error('benchmark Herald should run its backend on background threads, like npm start');
  if (!herald.app) throw new Error('benchmark Herald has no HTTP app');
  await herald.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = herald.app.server.address() as { port: number };
  return { herald, url: `http://127.0.0.1:${port}`, config, fakesPid: fakes.pid, stop: () => herald.stop() };
}

/**
 * Herald with only its API on the same data dir (role api: no delivery or projection threads), for
 * the API-alone ingest figure. Not a configuration `npm start` accepts (the embedded store runs
 * every role in one process); the benchmark builds it to measure the 202 path on its own.
 */
export async function startBenchApi(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const herald = await startHerald({ ...benchConfig(dir), role: 'api' }, createLogger('silent'));
  if (herald.backend !== 'none' || !herald.app) throw new Error('the API-alone Herald should run no backend and serve HTTP');
  await herald.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = herald.app.server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, stop: () => herald.stop() };
}

const headers = { authorization: `Bearer ${BENCH_API_KEY}`, 'content-type': 'application/json' };

async function call(url: string, method: string, body: unknown, want: number): Promise<void> {
  const res = await fetch(url, { method, headers, body: JSON.stringify(body) });
  if (res.status !== want) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
}

/** Configures a category (PUT /v1/categories/:category): transactional, marketing, rate limit. */
export async function configureCategory(url: string, category: string, policy: unknown): Promise<void> {
  await call(`${url}/v1/categories/${category}`, 'PUT', policy, 200);
}

/** Creates users 0..count-1 over HTTP (profile, then devices), `parallel` at a time. */
export async function createUsers(url: string, count: number, parallel = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const user = benchUser(next++);
      await call(`${url}/v1/users/${user.userId}`, 'PUT', user.profile, 200);
      for (const device of user.devices) await call(`${url}/v1/users/${user.userId}/devices`, 'POST', device, 201);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** The first projection that has an event of its types left to apply, or undefined. */
async function behind(herald: Herald): Promise<string | undefined> {
  for (const projection of PROJECTIONS) {
    const from = await herald.readModels.getCheckpoint(checkpointName(projection));
    const pending = await herald.events.readAll({ fromPosition: from, maxCount: 1, filter: { eventTypes: projection.eventTypes } });
    if (pending[0]) return `${projection.name} at ${from}, next ${pending[0].type} at ${pending[0].position}`;
  }
  return undefined;
}

/**
 * Resolves once every accepted notification is settled and every read model is up to date: no
 * notification document is still 'requested' and no projection has an event left to apply.
 * Returns when that was observed, as epoch ms.
 */
export async function settled(herald: Herald, timeoutMs: number, pollMs = 100): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const requested = await countStatus(herald, 'requested');
    const lagging = await behind(herald);
    if (requested === 0 && !lagging) return Date.now();
    if (Date.now() > deadline) throw new Error(`not settled after ${timeoutMs} ms: ${requested} notifications still requested; projection ${lagging ?? 'none'} behind`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export const countStatus = (herald: Herald, status: string) => herald.readModels.count(notificationLog.collection.name, { where: { status } });

export const dataFiles = (dir: string) => ({ events: join(dir, 'events.db'), readModels: join(dir, 'read-models.db') });
