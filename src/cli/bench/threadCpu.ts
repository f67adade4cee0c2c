/**
 * CPU time per thread of the bench process (Herald's API, delivery and projections threads, and the
 * rest: V8's and libuv's helper threads) and of the fakes' process, read from /proc. Linux only;
 * elsewhere there is no split and the figures leave it out.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** /proc reports CPU in USER_HZ ticks, 100 a second on every Linux architecture Node supports. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  /** CPU seconds (user + system) by thread id. */
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

function cpuSeconds(stat: string): number {
  // Fields after the command name, which may itself hold spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

export function cpuSnapshot(fakesPid: number): CpuSnapshot | undefined {
  if (process.platform !== 'linux') return undefined;
  const threads = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      threads.set(Number(tid), cpuSeconds(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  let fakes = 0;
  try {
    fakes = cpuSeconds(readFileSync(`/proc/${fakesPid}/stat`, 'utf8'));
  } catch {
    // the fakes' process is gone: its share reads 0
  }
  return { threads, fakes };
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
