/**
 * Measures replay of every read model on a bench history log, with the bench's own `replay`:
 * `node --initial-old-space-size=256 --import tsx bench/measureReplay.ts [notifications=100000] [data dir to reuse]`,
 * with the Node options of `npm run replay` (package.json), or it measures another heap setting.
 * Without a dir it writes the history into a new one and prints its path; a reused dir replays
 * the same log again (each replay swaps its builds in, so the next one starts afresh). On Linux
 * it also prints each thread's CPU time (sampled every 50 ms, so a thread that ends is counted):
 * "main" is the pass; of the others (by thread id) the commit thread (SQLite's writes,
 * the largest of them) and V8's GC helpers.
 */
import { historyDir, replay } from '../src/cli/bench/cost.ts';
import { stderrProgress } from '../src/cli/bench/stats.ts';
import { cpuSnapshot } from '../src/cli/bench/threadCpu.ts';
import { replayNodeOptions } from '../src/cli/bench/children.ts';

const missing = replayNodeOptions().filter((option) => !process.execArgv.includes(option));
if (missing.length > 0) process.stderr.write(`replay measure: without ${missing.join(' ')} (npm run replay's Node options), this is not what the replay runs with\n`);
const notifications = Number(process.argv[2] ?? 100_000);
const dir = process.argv[3] ?? (await historyDir(notifications, 1_000, stderrProgress));
process.stderr.write(`replay measure: data dir ${dir}\n`);
// Sampled every 50 ms, so the commit thread's time is counted though it ends with the replay.
const before = cpuSnapshot()?.threads ?? new Map<number, number>();
const last = new Map(before);
const sample = () => cpuSnapshot()?.threads.forEach((seconds, tid) => last.set(tid, seconds));
const sampler = setInterval(sample, 50);
const figure = await replay(dir, stderrProgress);
clearInterval(sampler);
sample();
const used = [...last].map(([tid, seconds]) => ({ name: tid === process.pid ? 'main' : `thread ${tid}`, ms: Math.round((seconds - (before.get(tid) ?? 0)) * 1000) })).filter((t) => t.ms >= 30);
process.stdout.write(`replay: ${figure.logEvents} log events, ${figure.applied} applied, ${figure.seconds} s = ${figure.perSecond} log events/s (rss ${Math.round(process.memoryUsage().rss / 1e6)} MB)\n`);
if (used.length > 0) process.stdout.write(`cpu by thread: ${used.map((t) => `${t.name} ${t.ms} ms`).join(', ')}; in all ${used.reduce((sum, t) => sum + t.ms, 0)} ms\n`);
