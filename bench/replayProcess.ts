/**
 * The benchmark's replay in a process of its own, started with the Node options of `npm run replay`
 * (src/cli/bench/children.ts), as users run a replay: not inside the benchmark's process, whose
 * heap and V8 settings are the serving Herald's. Arguments (JSON): { dir, quiet }. Prints one JSON
 * line: the ReplayFigure with this process's peak resident memory.
 */
import { replay } from '../src/cli/bench/cost.ts';
import { quietProgress, stderrProgress } from '../src/cli/bench/stats.ts';

const { dir, quiet } = JSON.parse(process.argv[2] ?? '{}') as { dir: string; quiet?: boolean };
const figure = await replay(dir, quiet ? quietProgress : stderrProgress);
// maxRSS is in kilobytes.
process.stdout.write(`${JSON.stringify({ ...figure, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
