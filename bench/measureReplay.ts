/**
 * Measures replay of every read model on a bench history log, with the bench's own `replay`:
 * `node --max-semi-space-size=64 --import tsx bench/measureReplay.ts [notifications=100000] [data dir to reuse]`.
 * Without a dir it writes the history into a new one and prints its path; a reused dir replays
 * the same log again (each replay swaps its builds in, so the next one starts afresh). On Linux
 * it also prints each thread's CPU time (sampled every 50 ms, so a thread that ends is counted):
 * "main" is the pass; the other threads are unnamed ("node"): the commit thread (SQLite's writes,
 * the largest of them) and V8's GC helpers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { historyDir, replay } from '../src/cli/bench/cost.ts';
import { stderrProgress } from '../src/cli/bench/stats.ts';

/** CPU milliseconds by thread id, with the thread's name. */
function threadCpu(): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  let tasks: string[] = [];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks of 10 ms.
      out.set(tid, { name: tid === String(process.pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: (Number(fields[11]) + Number(fields[12])) * 10 });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

const notifications = Number(process.argv[2] ?? 100_000);
const dir = process.argv[3] ?? (await historyDir(notifications, 1_000, stderrProgress));
process.stderr.write(`replay measure: data dir ${dir}\n`);
const before = threadCpu();
const last = new Map(before);
const sampler = setInterval(() => threadCpu().forEach((v, k) => last.set(k, v)), 50);
const figure = await replay(dir, stderrProgress);
clearInterval(sampler);
threadCpu().forEach((v, k) => last.set(k, v));
const used = [...last].map(([tid, { name, ms }]) => ({ name, ms: ms - (before.get(tid)?.ms ?? 0) })).filter((t) => t.ms >= 30);
process.stdout.write(`replay: ${figure.logEvents} log events, ${figure.applied} applied, ${figure.seconds} s = ${figure.perSecond} log events/s (rss ${Math.round(process.memoryUsage().rss / 1e6)} MB)\n`);
if (used.length > 0) process.stdout.write(`cpu by thread: ${used.map((t) => `${t.name} ${t.ms} ms`).join(', ')}; in all ${used.reduce((s, t) => s + t.ms, 0)} ms\n`);
