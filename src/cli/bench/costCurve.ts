/**
 * The cost curve: the same end-to-end figure with 10k, 100k and 1M notifications already in the
 * log, each point on a data dir holding that history (history.ts builds them).
 */
import type { BenchFakes } from './fakes.ts';
import type { PhaseProbes } from './cpuProbe.ts';
import { createUsers, startBenchHerald } from './herald.ts';
import { copyDir, historyDir } from './cost.ts';
import { endToEnd, type EndToEndFigure, type LoadShape } from './phases.ts';
import { round, type Progress } from './stats.ts';
import type { CpuSplit } from './threadCpu.ts';

export interface CostPoint extends EndToEndFigure {
  history: number;
  historyEvents: number;
  /** End-to-end per second of each visit to this point (walkCostCurve walks the curve there and back); `perSecond` is their mean. */
  visits?: number[];
}

/** What the walk needs of the bench's sizes (sizes.ts BenchSizes). */
export interface CurveSizes {
  users: number;
  history: number[];
  costEndToEnd: number;
  costVisits?: 1 | 2;
}

/**
 * The curve: end to end at each history size. `dirs` collects the data dirs made, for the caller
 * to remove; `dirOf` says which holds each history (replay reuses them).
 */
export async function walkCostCurve(fakes: BenchFakes, sizes: CurveSizes, shape: (count: number) => LoadShape, probes: PhaseProbes, progress: Progress, dirs: string[]): Promise<{ costCurve: CostPoint[]; dirOf: Map<number, string> }> {
  // The curve is walked there and back (10k, 100k, 1M, 1M, 100k, 10k) and each point is the mean
  // of its two visits: a machine that speeds up or slows down steadily during the run (shared
  // cores do) then shifts every point alike instead of tilting the curve. A second visit finds
  // the history as built: it runs on a copy (the largest, visited twice in a row, on itself).
  const twice = (sizes.costVisits ?? 2) === 2;
  const dirOf = new Map<number, string>();
  const spareOf = new Map<number, string>();
  for (const history of sizes.history) {
    const dir = await historyDir(history, sizes.users, progress);
    dirs.push(dir);
    dirOf.set(history, dir);
    if (!twice || history === sizes.history.at(-1)) continue;
    const spare = await copyDir(dir);
    dirs.push(spare);
    spareOf.set(history, spare);
  }
  const visits = new Map<number, CostPoint[]>();
  for (const history of [...sizes.history, ...(twice ? [...sizes.history].reverse() : [])]) {
    const seen = visits.get(history) ?? [];
    const dir = seen.length > 0 ? (spareOf.get(history) ?? dirOf.get(history)!) : dirOf.get(history)!;
    probes.before(`${history.toLocaleString('en')} in log${twice ? (seen.length > 0 ? ' ↓' : ' ↑') : ''}`);
    seen.push(await costPoint(fakes, shape(sizes.costEndToEnd), dir, history, sizes.costEndToEnd, progress));
    visits.set(history, seen);
  }
  return { costCurve: sizes.history.map((history) => meanPoint(visits.get(history)!)), dirOf };
}

/** End-to-end over `count` new notifications on top of the `history` already in `dir`. */
async function costPoint(fakes: BenchFakes, shape: LoadShape, dir: string, history: number, count: number, progress: Progress): Promise<CostPoint> {
  const bh = await startBenchHerald(dir, fakes);
  try {
    const historyEvents = await bh.herald.events.headPosition();
    await createUsers(bh.url, shape.users);
    // A fresh process on a big file: warm the JIT and the page caches first, as the live phases
    // are warmed by the ingest runs before them, so the curve shows the history and not a cold start.
    const warm = Math.min(2_000, Math.ceil(count / 5));
    progress.note(`warming up with ${warm} notifications`);
    await endToEnd(bh, { ...shape, offset: shape.offset + count }, warm);
    progress.note(`end-to-end with ${history.toLocaleString('en')} notifications of history (${count} new)`);
    const e2e = await endToEnd(bh, shape, count);
    return { history, historyEvents, ...e2e };
  } finally {
    await bh.stop();
  }
}

/** One cost point from its visits: rates, times and CPU averaged, failures, suppressions and errors summed; history as at the first visit. */
function meanPoint(visits: readonly CostPoint[]): CostPoint {
  const sum = (f: (p: CostPoint) => number) => visits.reduce((total, p) => total + f(p), 0);
  const mean = (f: (p: CostPoint) => number) => round(sum(f) / visits.length, 2);
  return {
    ...visits[0]!,
    perSecond: round(sum((p) => p.perSecond) / visits.length),
    ingestPerSecond: round(sum((p) => p.ingestPerSecond) / visits.length),
    seconds: mean((p) => p.seconds),
    failed: sum((p) => p.failed),
    suppressed: sum((p) => p.suppressed ?? 0),
    errors: sum((p) => p.errors),
    visits: visits.map((p) => p.perSecond),
    ...meanCpu(visits),
  };
}

/** Each thread's CPU per notification averaged over the visits that have a split (Linux); none when none has. */
function meanCpu(visits: readonly CostPoint[]): { cpuMicrosPerNotification?: CpuSplit } {
  const splits = visits.flatMap((p) => (p.cpuMicrosPerNotification ? [p.cpuMicrosPerNotification] : []));
  if (splits.length === 0) return {};
  const mean = (key: keyof CpuSplit) => Math.round(splits.reduce((total, c) => total + c[key], 0) / splits.length);
  return { cpuMicrosPerNotification: { api: mean('api'), delivery: mean('delivery'), projections: mean('projections'), otherThreads: mean('otherThreads'), fakes: mean('fakes'), total: mean('total') } };
}
