/** Small measuring helpers: percentiles, a peak-RSS sampler, progress lines on stderr. */
import cliProgress from 'cli-progress';

/** Nearest-rank percentile of unsorted numbers; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export const round = (n: number, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Peak resident set size of THIS process, sampled every 100 ms. The benchmark runs Herald, the
 * fake provider servers and its own bookkeeping in one process, so this is an upper bound on
 * Herald's own RSS; the load generators run in their own processes and are not included.
 */
export class RssSampler {
  private peakBytes = process.memoryUsage().rss;
  private readonly timer = setInterval(() => this.sample(), 100);
  private stopped = false;

  constructor() {
    this.timer.unref();
  }

  sample(): number {
    if (this.stopped) return this.peakBytes;
    this.peakBytes = Math.max(this.peakBytes, process.memoryUsage().rss);
    return this.peakBytes;
  }

  get peakMb(): number {
    return round(this.sample() / 1024 / 1024);
  }

  stop(): void {
    this.sample();
    this.stopped = true;
    clearInterval(this.timer);
  }
}

export interface Progress {
  note(message: string): void;
  /** A bar for a long phase; call update(done) and then stop(). */
  bar(label: string, total: number): { update(done: number): void; stop(): void };
}

export const quietProgress: Progress = { note: () => undefined, bar: () => ({ update: () => undefined, stop: () => undefined }) };

export const stderrProgress: Progress = {
  note: (message) => void process.stderr.write(`bench: ${message}\n`),
  bar: (label, total) => {
    const bar = new cliProgress.SingleBar({ format: `bench: ${label.padEnd(28)} [{bar}] {percentage}% {value}/{total} {eta_formatted} left`, stream: process.stderr, hideCursor: false, noTTYOutput: true, notTTYSchedule: 5_000 }, cliProgress.Presets.shades_classic);
    bar.start(total, 0);
    return { update: (done) => bar.update(done), stop: () => bar.stop() };
  },
};
