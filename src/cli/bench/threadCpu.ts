/**
 * CPU time per thread of the bench process (Herald's API, delivery and projections threads, and the
 * rest: V8's and libuv's helper threads) and of the fakes' process, read from /proc. Linux only;
 * elsewhere there is no split and the figures leave it out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc/…/stat reports CPU in USER_HZ ticks, 100 a second on every Linux architecture Node supports. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  /** CPU seconds by thread id. */
  threads: Map<number, number>;
  fakes: number;
}

/** CPU per notification in µs, by where it ran. */
export interface CpuSplit {
  api: number;
  delivery: number;
  projections: number;
  /** The bench process's other threads: garbage collection and compiler helpers, libuv's pool (fdatasync). */
  otherThreads: number;
  /** The fake providers' process. */
  fakes: number;
  /** Everything above together (not the load generator). */
  total: number;
}

/**
 * CPU seconds one thread has run. `schedstat` counts it in nanoseconds; `stat`'s user + system
 * ticks are 10 ms apart, too coarse for a small run (a thread doing 5 ms of work read as 0 or
 * 10 ms), so it is only the fallback for kernels without schedstat.
 */
function threadSeconds(dir: string): number {
  try {
    return Number(readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
  } catch {
    const stat = readFileSync(`${dir}/stat`, 'utf8');
    // Fields after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  }
}

/** CPU seconds by thread id of a process; threads that end while it is read are left out. */
function threadsOf(pid: number | 'self'): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.set(Number(tid), threadSeconds(`/proc/${pid}/task/${tid}`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return threads;
}

/** `fakesPid` absent: no fakes' process to count (its share reads 0). */
export function cpuSnapshot(fakesPid?: number): CpuSnapshot | undefined {
  if (process.platform !== 'linux') return undefined;
  let fakes = 0;
  try {
    if (fakesPid !== undefined) for (const seconds of threadsOf(fakesPid).values()) fakes += seconds;
  } catch {
    // the fakes' process is gone: its share reads 0
  }
  return { threads: threadsOf('self'), fakes };
}

export function cpuSplit(before: CpuSnapshot, after: CpuSnapshot, tids: { delivery?: number; projections?: number }, notifications: number): CpuSplit {
  const used = (tid: number | undefined) => (tid === undefined ? 0 : (after.threads.get(tid) ?? 0) - (before.threads.get(tid) ?? 0));
  const per = (seconds: number) => Math.round((seconds * 1e6) / Math.max(1, notifications));
  let all = 0;
  for (const tid of after.threads.keys()) all += used(tid);
  const [api, delivery, projections] = [used(process.pid), used(tids.delivery), used(tids.projections)];
  const fakes = after.fakes - before.fakes;
  return { api: per(api), delivery: per(delivery), projections: per(projections), otherThreads: per(all - api - delivery - projections), fakes: per(fakes), total: per(all + fakes) };
}
