/**
 * `npm run replay -- <read model | all> [--until <position | ISO time>]`: rebuilds read models
 * from the global log, blue/green (see src/processors/rebuild.ts and docs/replay.md). Uses the
 * same configuration as `npm start`, so it works on the running service's stores.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig } from '../config.ts';
import { ConfigError } from '../configError.ts';
import { createLogger } from '../logger.ts';
import { openStores } from '../adapters/stores.ts';
import { PROJECTIONS } from '../projections/index.ts';
import type { Projection } from '../projections/projection.ts';
import { PositionSearchInterruptedError, positionAt, rebuildAll, RebuildInterruptedError, type RebuildProgress } from '../processors/rebuild.ts';
import { ProjectionFault } from '../processors/projectionFault.ts';
import type { EventStore } from '../ports/eventStore.ts';

const USAGE = `usage: npm run replay -- <read model | all> [--until <position | ISO time>]
  read models: ${PROJECTIONS.map((p) => p.name).join(', ')}
  --until      build as of a past global position (e.g. 120000) or time (e.g. 2026-11-23T10:00:00Z)
               into a separate collection, leaving the live read model alone`;

class UsageError extends Error {}

/**
 * A replay's garbage is nearly all short-lived, and unless the old generation's size is configured
 * V8 answers that with a full collection every few tens of megabytes: package.json's replay script
 * passes this option (docs/replay.md).
 */
const HEAP_OPTION = '--initial-old-space-size';
const heapConfigured = () => [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((option) => option.startsWith(`${HEAP_OPTION}=`));

function select(name: string | undefined): readonly Projection[] {
  if (!name) throw new UsageError('name the read model to rebuild, or all');
  if (name === 'all') return PROJECTIONS;
  const found = PROJECTIONS.find((p) => p.name === name || p.collection.name === name);
  if (!found) throw new UsageError(`unknown read model ${JSON.stringify(name)}`);
  return [found];
}

async function untilPosition(value: string | undefined, resolveTime: (iso: string) => Promise<number>): Promise<number | undefined> {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  if (!Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}/.test(value)) return resolveTime(value);
  throw new UsageError(`--until ${JSON.stringify(value)} is neither a global position (digits) nor an ISO time such as 2026-11-23T10:00:00Z`);
}

function progressBar(label: string) {
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: '{label} [{bar}] {percentage}% | {events} log events | {rate} events/s | ETA {eta_formatted}',
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  let started = 0;
  return {
    update(p: RebuildProgress) {
      const payload = { label: label.padEnd(18), events: p.events, rate: Math.round(p.events / Math.max(0.001, (Date.now() - started) / 1000)) };
      if (started === 0) {
        started = Date.now();
        bar.start(Math.max(1, p.target), p.position, payload);
      } else {
        bar.setTotal(Math.max(1, p.target));
        bar.update(p.position, payload);
      }
    },
    stop: () => bar.stop(),
  };
}

/** `--until <time>`: the log is read forward to find its position, with a bar of its own (it can take as long as the rebuild). */
async function findPosition(events: EventStore, iso: string, signal: AbortSignal): Promise<number> {
  const head = await events.headPosition();
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: `finding ${iso} [{bar}] {percentage}% | {scanned} log events read | ETA {eta_formatted}`, hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(Math.max(1, head), 0, { scanned: 0 });
  try {
    return await positionAt(events, iso, { signal, onProgress: (position, scanned) => bar.update(Math.min(position, head), { scanned }) });
  } finally {
    bar.stop();
  }
}

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { until: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`one read model at a time (or all), not ${positionals.join(' ')}`);
  const projections = select(positionals[0]);
  const config = loadConfig(process.env);
  // Opening the embedded stores would create them: a mistyped HERALD_DATA_DIR would then "rebuild"
  // an empty log and report success.
  if (config.eventStore.kind === 'embedded' && !existsSync(config.eventStore.file)) {
    throw new ConfigError(`no event log at ${config.eventStore.file}: replay rebuilds the read models of an existing Herald; set HERALD_DATA_DIR to the data dir its npm start uses`);
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
  if (!heapConfigured()) logger.warn(`Node runs without ${HEAP_OPTION}: the rebuild will be about a fifth slower. Run it as npm run replay, which passes it, or give node ${HEAP_OPTION}=256 (docs/replay.md, "Node's heap settings")`);
  // The pass computes while a thread of the read-model store writes what it built (buildPass.ts).
  const { events, readModels } = await openStores(config, logger, { readModelCommitThread: true });
  const aborter = new AbortController();
  const interrupt = () => aborter.abort();
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const until = await untilPosition(values.until, (iso) => findPosition(events, iso, aborter.signal));
    const bar = progressBar(projections.length > 1 ? `${projections.length} read models` : projections[0]!.name);
    const started = Date.now();
    let read = 0;
    const onProgress = (p: RebuildProgress) => {
      read = p.events;
      bar.update(p);
    };
    // One pass over the log builds every read model asked for (see docs/replay.md).
    const results = await rebuildAll(events, readModels, projections, logger, { ...(until === undefined ? {} : { until }), signal: aborter.signal, onProgress }).finally(() => bar.stop());
    const seconds = Math.max((Date.now() - started) / 1000, 0.001);
    for (const result of results) {
      const resumed = result.resumedFrom > 0
        ? `, resumed from position ${result.resumedFrom}`
        : result.resumedAfterStreamAt ? `, resumed stream by stream after the stream that begins at position ${result.resumedAfterStreamAt}` : '';
      const how = `${result.events} events applied${resumed}`;
      process.stdout.write(result.swapped
        ? `${result.projection}: rebuilt from the log (${how}) and swapped into ${result.collection}; live checkpoint at position ${result.position}\n`
        : `${result.projection}: built as of position ${result.position} (${how}) into collection ${result.collection}; the live read model is untouched. Drop the copy when done (embedded: sqlite3 ${config.readStore.kind === 'embedded' ? config.readStore.file : '<file>'} 'DROP TABLE rm_${result.collection}')\n`);
    }
    process.stdout.write(`${results.length} read model(s) rebuilt from ${read} log events read in ${seconds.toFixed(1)} s: ${Math.round(read / seconds)} log events/s\n`);
    return 0;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await readModels.close();
    await events.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) process.stderr.write(`replay: ${error.message}\n${USAGE}\n`);
    else if (error instanceof ConfigError) process.stderr.write(`replay: ${error.message}\n`);
    else if (error instanceof RebuildInterruptedError || error instanceof PositionSearchInterruptedError) process.stderr.write(`\nreplay: ${error.message}\n`);
    else if (error instanceof ProjectionFault) process.stderr.write(`\nreplay: ${error.message}\nNothing live was changed: the build stops at its last checkpoint. Fix the projection, then run the same command again; it resumes from there.\n`);
    else process.stderr.write(`replay: failed: ${error instanceof Error ? error.stack : String(error)}\nNothing live was changed, unless it failed while swapping the finished builds in at the end: then the read models swapped before the failure are live and complete, and the others keep their old copies. Run the same command again to resume from the build's checkpoint.\n`);
    process.exit(error instanceof RebuildInterruptedError || error instanceof PositionSearchInterruptedError ? 130 : error instanceof UsageError || error instanceof ConfigError ? 2 : 1);
  },
);
