/**
 * Lowers the calling thread's CPU priority (raises its niceness). The embedded default's delivery
 * and projection threads call it so that, when the cores are full, the API thread runs first:
 * a request waits on the CPU only behind other requests, and the background threads catch up as
 * soon as there is room. Linux only, where a thread has its own niceness (found through
 * /proc/thread-self); elsewhere nothing changes.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Logger } from './ports/logger.ts';

/** The calling thread's kernel id (what `top -H` and /proc/<pid>/task show), or undefined off Linux. */
export function threadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
}

/** Lowers thread `tid` (from threadId()) to niceness `nice`; says whether it did. Off Linux, nothing changes. */
export function lowerThreadPriority(nice: number, tid: number | undefined, logger: Logger): boolean {
  if (nice === 0 || process.platform !== 'linux') return false;
  const refused = (err: unknown) => {
    logger.warn({ err, nice }, 'could not lower the background thread\'s priority (HERALD_BACKGROUND_NICE); it runs at the API\'s priority');
    return false;
  };
  if (tid === undefined) return refused(new Error('/proc/thread-self is not readable'));
  try {
    setPriority(tid, nice);
    return true;
  } catch (error) {
    return refused(error);
  }
}
