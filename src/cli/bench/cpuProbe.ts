/**
 * A fixed single-thread CPU workload (400,000 JSON round trips of a small document), timed. Run
 * before and after the benchmark and recorded with its results: on shared vCPUs the machine's
 * speed drifts during a day (the same code's full-run figures moved by up to 50 %), and this says
 * how fast the machine was while the figures were taken. Lower is faster; ≈0.8 s on the
 * development machine.
 */
const DOC = { a: 'x'.repeat(50), b: [1, 2, 3, { c: 'hello', d: 12345.678 }], e: { f: true, g: null, h: 'world'.repeat(10) } };

export function cpuProbeMs(rounds = 400_000): number {
  const started = performance.now();
  let sum = 0;
  for (let i = 0; i < rounds; i += 1) sum += (JSON.parse(JSON.stringify({ ...DOC, i })) as { i: number }).i;
  if (sum < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return Math.round(performance.now() - started);
}

/** The probe taken before one phase of the benchmark. */
export interface PhaseProbe {
  phase: string;
  ms: number;
}

/**
 * The probe again, a quarter as long, before each phase (since 2026-11-27, session 19): the speed
 * moves within a run too (one run's probe went 848 → 1,036 ms), so each figure gets the speed it
 * was taken at. Comparable with each other, not with the before/after probe (400,000 rounds).
 */
export class PhaseProbes {
  readonly taken: PhaseProbe[] = [];

  constructor(readonly rounds = 100_000) {}

  before(phase: string): void {
    this.taken.push({ phase, ms: cpuProbeMs(this.rounds) });
  }
}
