/** The benchmark's table (plain padded text) and its JSON file under bench/results/. */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { BenchResults } from './results.ts';
import type { CpuSplit } from './threadCpu.ts';
import type { ApiAloneFigure } from './phases.ts';
import type { ReplayFigure } from './cost.ts';

const n = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 1 });
const check = (ok: boolean) => (ok ? 'met' : 'MISSED');

/** Rows of [figure, measured, target, verdict]. */
export function rows(r: BenchResults): string[][] {
  const base = r.steady.find((s) => s.rate === 2_000);
  const out = [
    ['ingest over HTTP (202/s)', `${n(r.ingest.perSecond)}/s, p50 ${r.ingest.p50Ms} ms, p99 ${r.ingest.p99Ms} ms, max ${r.ingest.maxMs} ms, ${r.ingest.errors} errors`, '≥ 10,000/s, p99 ≤ 20 ms', check(r.ingest.perSecond >= 10_000 && r.ingest.p99Ms <= 20 && r.ingest.errors === 0)],
    ...(r.ingestApiAlone ? [apiAloneRow('ingest, the API alone (no deliveries)', r.ingestApiAlone)] : []),
    ...(r.ingestApiAloneKeyed ? [apiAloneRow('ingest, the API alone, idempotency keys', r.ingestApiAloneKeyed)] : []),
    [`ingest, ${r.ingestBatched.recipientsPerRequest} recipients per request`, `${n(r.ingestBatched.perSecond)} notifications/s (${n(r.ingestBatched.requestsPerSecond)} requests/s), p50 ${r.ingestBatched.p50Ms} ms, p99 ${r.ingestBatched.p99Ms} ms, ${r.ingestBatched.errors} errors`, '', ''],
    ['end-to-end to Sent + projected', `${n(r.endToEnd.perSecond)}/s (${n(r.endToEnd.notifications)} in ${r.endToEnd.seconds} s, ${r.endToEnd.failed} failed)`, '≥ 5,000/s', check(r.endToEnd.perSecond >= 5_000)],
  ];
  const bulk = r.ingestBulk;
  const e2eBulk = r.endToEndBulk;
  if (bulk && e2eBulk) {
    out.push(
      [`ingest, batches of ${bulk.batchItemsPerRequest} sends (${bulk.connections} conn.)`, `${n(bulk.perSecond)} notifications/s (${n(bulk.requestsPerSecond)} requests/s), p50 ${bulk.p50Ms} ms, p99 ${bulk.p99Ms} ms, max ${bulk.maxMs} ms, ${bulk.errors} errors`, '≥ 10,000/s, p99 ≤ 20 ms', check(bulk.perSecond >= 10_000 && bulk.p99Ms <= 20 && bulk.errors === 0)],
      [`end-to-end, batches of ${e2eBulk.batchItemsPerRequest ?? 1} sends`, `${n(e2eBulk.perSecond)}/s (${n(e2eBulk.notifications)} in ${e2eBulk.seconds} s, ${e2eBulk.failed} failed)`, '≥ 5,000/s', check(e2eBulk.perSecond >= 5_000)],
    );
  }
  const limited = r.endToEndRateLimited;
  if (limited) {
    out.push([`end-to-end, a rate-limited category`, `${n(limited.perSecond)}/s (${n(limited.notifications)} in ${limited.seconds} s, ${limited.failed} failed, ${limited.suppressed ?? 0} suppressed)`, '(diagnostic)', '']);
  }
  const split = (label: string, c: CpuSplit | undefined) =>
    c ? [`${label}: API ${c.api}, delivery ${c.delivery}, projections ${c.projections}, other threads ${c.otherThreads}, fakes ${c.fakes} (total ${c.total})`] : [];
  const cpu = [
    ...split('one per request', r.endToEnd.cpuMicrosPerNotification),
    ...split(`batches of ${e2eBulk?.batchItemsPerRequest ?? 1}`, e2eBulk?.cpuMicrosPerNotification),
    ...split('rate-limited, one per request', limited?.cpuMicrosPerNotification),
  ];
  if (cpu.length > 0) out.push(['end-to-end CPU per notification (µs)', cpu.join('; '), '', '']);
  for (const s of r.steady) {
    const target = s === base ? 'p99 ≤ 250 ms' : '(growth)';
    const unfinished = s.unfinished > 0 ? `, ${s.unfinished} not sent` : '';
    out.push([`202 → Sent at ${n(s.rate)}/s open loop`, `p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms; from request p99 ${s.fromRequestP99Ms} ms; 202 p50/p99 ${s.ackP50Ms}/${s.ackP99Ms} ms; got ${n(s.achievedPerSecond)}/s${unfinished}`, target, s === base ? check(s.p99Ms <= 250 && s.unfinished === 0 && s.achievedPerSecond >= 0.95 * s.rate) : '']);
  }
  for (const c of r.costCurve) {
    const visits = c.visits && c.visits.length > 1 ? `mean of ${c.visits.map(n).join(' and ')}; ` : '';
    // What grows with the history shows in the projections thread first: its writes go into the larger indexes.
    const cpu = c.cpuMicrosPerNotification ? `; CPU per notification ${n(c.cpuMicrosPerNotification.total)} µs, projections thread ${n(c.cpuMicrosPerNotification.projections)} µs` : '';
    out.push([`end-to-end, ${n(c.history)} in log`, `${n(c.perSecond)}/s (${visits}${n(c.historyEvents)} events before${cpu})`, '', '']);
  }
  out.push(['slowdown, smallest → largest history', `${r.costSlowdownPct}%`, '< 10%', check(r.costSlowdownPct < 10)]);
  // The replay's own process (as `npm run replay` runs it): its peak RSS, apart from the service's.
  const rss = (f: ReplayFigure) => (f.peakRssMb === undefined ? '' : `, peak RSS ${n(f.peakRssMb)} MB`);
  out.push(['replay (every read model)', `${n(r.replay.perSecond)} events/s (${n(r.replay.logEvents)} events, ${r.replay.seconds} s, ${n(r.replay.applied)} applied${rss(r.replay)})`, '≥ 100,000/s', check(r.replay.perSecond >= 100_000)]);
  if (r.replayLargest) out.push([`replay at scale, log of ${n(r.replayLargest.history)} notifications`, `${n(r.replayLargest.perSecond)} events/s (${n(r.replayLargest.logEvents)} events, ${r.replayLargest.seconds} s, ${n(r.replayLargest.applied)} applied${rss(r.replayLargest)})`, '(diagnostic)', '']);
  out.push(['peak RSS (bench process)', `${r.peakRssMb.live} MB serving; ${r.peakRssMb.wholeRun} MB whole run`, '', '']);
  out.push(['database size', `${n(r.size.mbPerMillionEvents)} MB events.db per 1M events; read models ${n(r.size.readModelsMbPerMillionEvents)} MB per 1M`, '', '']);
  const over = (route: string) => (r.providerConnections?.[route] === undefined ? '' : ` over ${n(r.providerConnections[route])} conn.`);
  for (const batch of [...new Set((r.fcmTransports ?? []).map((f) => f.batch))]) {
    const figures = r.fcmTransports!.filter((f) => f.batch === batch);
    const text = figures.map((f) => `${f.transport} ${n(f.messagesPerSecond)} msg/s, ${n(f.cpuMicrosPerMessage)} µs CPU/msg, ${n(f.connections)} new conn.${f.failed ? `, ${n(f.failed)} failed` : ''}`).join('; ');
    out.push([`FCM alone, sendEach of ${batch} (${figures[0]!.calls} calls)`, text, '', '']);
  }
  const probes = r.machine.phaseProbes;
  if (probes && probes.length > 0) {
    // How fast the machine was when each figure was taken: the same code's figures move with it.
    out.push([`CPU probe before each phase (ms per ${n(r.machine.phaseProbeRounds ?? 0)} rounds; lower is faster)`, probes.map((p) => `${p.phase} ${n(p.ms)}`).join('; '), '', '']);
  }
  out.push(['provider calls answered by fakes', `${Object.entries(r.providerCalls).map(([k, v]) => `${k} ${n(v)}${over(k)}`).join(', ')}; ${r.providerViolations} violations`, '', '']);
  return out;
}

/** A diagnostic, not a target: the ingest target is judged with deliveries running, as they do in production. */
function apiAloneRow(label: string, a: ApiAloneFigure): string[] {
  const cpu = a.cpuMicrosPerNotification ? `; CPU per notification: API thread ${a.cpuMicrosPerNotification.api} µs, other threads ${a.cpuMicrosPerNotification.otherThreads} µs` : '';
  return [label, `${n(a.perSecond)}/s, p50 ${a.p50Ms} ms, p99 ${a.p99Ms} ms, max ${a.maxMs} ms, ${a.errors} errors${cpu}`, '(diagnostic)', ''];
}

export function table(r: BenchResults): string {
  const all = [['figure', 'measured', 'target', ''], ...rows(r)];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const probe = r.machine.cpuProbeMs ? `, CPU probe ${r.machine.cpuProbeMs.before} → ${r.machine.cpuProbeMs.after} ms` : '';
  const head = `Herald benchmark (${r.mode}), ${r.startedAt}, ${r.machine.cpus} CPUs, Node ${r.machine.node}, ${r.seconds} s${probe}`;
  return [head, '', line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

const RESULTS_DIR = fileURLToPath(new URL('../../../bench/results/', import.meta.url));

/**
 * Writes bench/results/<YYYY-MM-DD>.json (`-quick` before `.json` for `--quick`) and returns its
 * path. That file always holds the day's last run. A full run does not lose the day's earlier
 * full run: the file it would replace is first renamed after that run's own start,
 * <YYYY-MM-DD>T<HH-MM-SS>Z.json, so every full run of a day is kept. `--quick` runs (development,
 * not committed) just replace each other.
 */
export async function writeResults(r: BenchResults, dir = RESULTS_DIR): Promise<string> {
  await mkdir(dir, { recursive: true });
  const quick = r.mode !== 'full';
  const file = join(dir, `${r.startedAt.slice(0, 10)}${quick ? `-${r.mode}` : ''}.json`);
  if (!quick) await keepEarlierRun(file, dir, r.startedAt);
  await writeFile(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

/** Renames an earlier run's file after its own start time; refuses to replace a file that is not a run. */
async function keepEarlierRun(file: string, dir: string, startedAt: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const earlier = startedAtOf(text);
  if (!earlier) throw new Error(`${file} exists but holds no benchmark run (no startedAt); move it away and run again`);
  if (earlier === startedAt) return;
  // Colons are not allowed in Windows file names.
  await rename(file, join(dir, `${earlier.slice(0, 19).replaceAll(':', '-')}Z.json`));
}

function startedAtOf(text: string): string | undefined {
  try {
    const { startedAt } = JSON.parse(text) as { startedAt?: unknown };
    return typeof startedAt === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(startedAt) ? startedAt : undefined;
  } catch {
    return undefined;
  }
}
