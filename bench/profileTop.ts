/**
 * Top costs in a V8 CPU profile (node --cpu-prof): self time by function (file:line), and total
 * self time by file. For reading where a benchmark figure goes, not part of the run.
 *
 *   node --import tsx bench/profileTop.ts <file.cpuprofile> [rows] [--on-cpu]
 *
 * A sample's time is the gap since the previous one. When the thread lost its core in between
 * (both cores busy: the other threads, the load generator, the fakes), the whole gap lands on
 * the function it was running when it got the core back, typically one that had just woken
 * another thread (a socket write, queuing an fsync, postMessage). `--on-cpu` caps each sample
 * at the median interval, which estimates time on the CPU instead. Measured: a pino child
 * logger took 4.5 µs per request by gap time, 3.2 µs by capped samples, 1.2 µs in isolation
 * (a loopback socket write stays large either way: the kernel does the receiving side too).
 */
import { existsSync, readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const onCpu = args.includes('--on-cpu');
const [file, rowsArg] = args.filter((a) => a !== '--on-cpu');
if (!file) throw new Error('usage: bench/profileTop.ts <file.cpuprofile> [rows] [--on-cpu]');
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const rows = Number(rowsArg ?? 25);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const interval = [...profile.timeDeltas].sort((a, b) => a - b)[profile.timeDeltas.length >> 1] ?? 0;
const selfMs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  const gap = profile.timeDeltas[i] ?? 0;
  selfMs.set(id, (selfMs.get(id) ?? 0) + (onCpu ? Math.min(gap, interval) : gap) / 1000);
});
const total = [...selfMs.values()].reduce((a, b) => a + b, 0);

const sources = new Map<string, string[]>();
/** tsx-transformed files report line 1: find the function's definition in the source instead. */
function lineOf(path: string, fn: string, reported: number): number {
  if (reported > 0 || !path.endsWith('.ts') || !fn || fn === '(anonymous)') return reported + 1;
  if (!sources.has(path)) sources.set(path, existsSync(path) ? readFileSync(path, 'utf8').split('\n') : []);
  const name = fn.split('.').pop()!.replace(/[$]/g, '\\$&');
  const def = new RegExp(`(function\\*?\\s+${name}\\b|\\b${name}\\s*(<[^>]*>)?\\(.*\\)\\s*(:[^=]*)?\\{|\\b${name}\\s*[:=]\\s*(async\\s*)?\\()`);
  const i = sources.get(path)!.findIndex((l) => def.test(l));
  return i >= 0 ? i + 1 : 1;
}
const where = (n: Node) => {
  const url = n.callFrame.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  return url ? `${url}:${lineOf(url, n.callFrame.functionName, n.callFrame.lineNumber)}` : '(native)';
};
const fns = new Map<string, number>();
const files = new Map<string, number>();
for (const [id, ms] of selfMs) {
  const n = byId.get(id);
  if (!n) continue;
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`;
  fns.set(key, (fns.get(key) ?? 0) + ms);
  const f = where(n).replace(/:\d+$/, '').replace(/node_modules\/((@[^/]+\/)?[^/]+)\/.*/, 'node_modules/$1');
  files.set(f, (files.get(f) ?? 0) + ms);
}
const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${Math.round(total)} ms ${onCpu ? `on the CPU, samples capped at ${Math.round(interval)} µs` : 'sampled'})\n`);
  for (const [k, ms] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`${((ms / total) * 100).toFixed(1).padStart(5)}%  ${Math.round(ms).toString().padStart(6)} ms  ${k}\n`);
};
/** Inclusive time of the project's own functions (src/), each counted once per stack. */
const inclusive = new Map<string, number>();
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
for (const [id, ms] of selfMs) {
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur);
    if (!n || !n.callFrame.url.includes('/src/')) continue;
    const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
  }
}
show('self time by function', fns);
show('self time by file / package', files);
show('inclusive time of src/ functions', inclusive);
