/** The data dirs of history the cost curve (costCurve.ts) and replay run on, replay itself, and size on disk. */
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../adapters/eventStore/sqlite/sqliteEventStore.ts';
import { SqliteReadModelStore } from '../../adapters/readModels/sqlite/sqliteReadModelStore.ts';
import { BULK_WRITER_OPTIONS } from '../../adapters/readModels/sqlite/storeOptions.ts';
import { PROJECTIONS } from '../../projections/index.ts';
import { dataFiles } from './herald.ts';
import { buildReadModels, groupsAtEnd, prefill } from './history.ts';
import { rebuildAll } from '../../processors/rebuild.ts';
import { createLogger } from '../../logger.ts';
import { quietProgress, round, type Progress } from './stats.ts';
import { replayNodeOptions, runBenchProcess } from './children.ts';

/** A data dir holding `history` delivered notifications, with read models and delivery groups caught up. */
export async function historyDir(history: number, users: number, progress: Progress): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  const files = dataFiles(dir);
  const events = new SqliteEventStore(files.events);
  const readModels = new SqliteReadModelStore(files.readModels);
  try {
    if (history === 0) return dir;
    const fill = progress.bar(`history ${history.toLocaleString('en')}`, history);
    await prefill(events, 0, history, users, (done) => fill.update(done));
    fill.stop();
    await groupsAtEnd(events);
    const head = await events.headPosition();
    const build = progress.bar('read models for history', head);
    await buildReadModels(events, readModels, '', (done) => build.update(done));
    build.stop();
  } finally {
    await readModels.close();
    await events.close();
  }
  return dir;
}

/** A copy of a history dir, for a second visit that must find the history as it was built. */
export async function copyDir(dir: string): Promise<string> {
  const copy = await mkdtemp(join(tmpdir(), 'herald-bench-'));
  await cp(dir, copy, { recursive: true });
  return copy;
}

export interface ReplayFigure {
  /** Events in the log, read once for all read models (one pass). */
  logEvents: number;
  /** Events applied, summed over read models. */
  applied: number;
  seconds: number;
  /** Log events per second of wall time for rebuilding every read model. */
  perSecond: number;
  /** Peak resident memory of the replay's process, when it ran in one of its own (replayInOwnProcess). */
  peakRssMb?: number;
}

/**
 * `replay` in a process of its own (bench/replayProcess.ts), started with `npm run replay`'s Node
 * options: what a user's `npm run replay -- all` does, measured apart from the benchmark's process.
 */
export function replayInOwnProcess(dir: string, progress: Progress): Promise<ReplayFigure> {
  // The child draws its own progress bar on the stderr passed through, unless the caller is quiet (the smoke test).
  const quiet = progress === quietProgress;
  return runBenchProcess<ReplayFigure>('replayProcess.ts', { dir, quiet }, { nodeOptions: replayNodeOptions(), showStderr: !quiet });
}

/** Rebuilds every read model with the replay CLI's own single pass (blue/green into fresh collections, then swap). */
export async function replay(dir: string, progress: Progress): Promise<ReplayFigure> {
  const files = dataFiles(dir);
  const events = new SqliteEventStore(files.events);
  const readModels = new SqliteReadModelStore(files.readModels, undefined, BULK_WRITER_OPTIONS);
  const logger = createLogger('silent');
  try {
    const logEvents = await events.headPosition();
    const bar = progress.bar('replay', logEvents);
    const started = performance.now();
    const results = await rebuildAll(events, readModels, PROJECTIONS, logger, { onProgress: (r) => bar.update(r.position) });
    const seconds = (performance.now() - started) / 1000;
    bar.stop();
    const applied = results.reduce((sum, r) => sum + r.events, 0);
    return { logEvents, applied, seconds: round(seconds, 2), perSecond: round(logEvents / seconds) };
  } finally {
    await readModels.close();
    await events.close();
  }
}

export interface SizeFigure {
  events: number;
  eventsDbBytes: number;
  mbPerMillionEvents: number;
  readModelsMbPerMillionEvents: number;
}

const bytes = async (file: string) => (await stat(file).catch(() => ({ size: 0 }))).size;

/** Size of the event store (main file + WAL) and of the read models, per million events. */
export async function sizeOnDisk(dir: string): Promise<SizeFigure> {
  const files = dataFiles(dir);
  const events = new SqliteEventStore(files.events);
  const count = await events.headPosition();
  await events.close();
  const eventsDbBytes = (await bytes(files.events)) + (await bytes(`${files.events}-wal`));
  const readBytes = (await bytes(files.readModels)) + (await bytes(`${files.readModels}-wal`));
  const perMillion = (b: number) => round((b / Math.max(1, count)) * 1e6 / 1024 / 1024, 1);
  return { events: count, eventsDbBytes, mbPerMillionEvents: perMillion(eventsDbBytes), readModelsMbPerMillionEvents: perMillion(readBytes) };
}

export const removeDir = (dir: string) => rm(dir, { recursive: true, force: true });
