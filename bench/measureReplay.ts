/**
 * Measures replay of every read model on a bench history log, with the bench's own `replay`:
 * `node --import tsx bench/measureReplay.ts [notifications=100000] [data dir to reuse]`.
 * Without a dir it writes the history into a new one and prints its path; a reused dir replays
 * the same log again (each replay swaps its builds in, so the next one starts afresh).
 */
import { historyDir, replay } from '../src/cli/bench/cost.ts';
import { stderrProgress } from '../src/cli/bench/stats.ts';

const notifications = Number(process.argv[2] ?? 100_000);
const dir = process.argv[3] ?? (await historyDir(notifications, 1_000, stderrProgress));
process.stderr.write(`replay measure: data dir ${dir}\n`);
const figure = await replay(dir, stderrProgress);
process.stdout.write(`replay: ${figure.logEvents} log events, ${figure.applied} applied, ${figure.seconds} s = ${figure.perSecond} log events/s (rss ${Math.round(process.memoryUsage().rss / 1e6)} MB)\n`);
