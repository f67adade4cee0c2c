/** What a benchmark run records: the figures of every phase, as written to bench/results and read by report.ts. */
import type { PhaseProbe } from './cpuProbe.ts';
import type { ApiAloneFigure, EndToEndFigure, IngestFigure, SteadyFigure } from './phases.ts';
import type { ReplayFigure, SizeFigure } from './cost.ts';
import type { CostPoint } from './costCurve.ts';
import type { FcmTransportFigure } from './fcmTransports.ts';
import type { BenchSizes } from './sizes.ts';

export interface BenchResults {
  mode: string;
  startedAt: string;
  /**
   * `cpuProbeMs`: the fixed CPU workload of cpuProbe.ts, timed before and after the run (absent in
   * older results). `phaseProbes`: the same workload of `phaseProbeRounds` rounds before each
   * phase, in the order run (absent before 2026-11-27, session 19).
   */
  machine: { cpus: number; node: string; platform: string; cpuProbeMs?: { before: number; after: number }; phaseProbeRounds?: number; phaseProbes?: PhaseProbe[] };
  sizes: BenchSizes;
  ingest: IngestFigure;
  /** The ingest figure's load against Herald's API alone, no deliveries or projections running (absent in older results). */
  ingestApiAlone?: ApiAloneFigure;
  /** The same, each send with an idempotency key of its own, right after (absent before 2026-11-29, session 28). */
  ingestApiAloneKeyed?: ApiAloneFigure;
  ingestBatched: IngestFigure;
  /** Through POST /v1/notifications/batch (absent in older results). */
  ingestBulk?: IngestFigure;
  endToEnd: EndToEndFigure;
  endToEndBulk?: EndToEndFigure;
  /** The end-to-end figure with every send in a category with a per-user rate limit (absent in older results). */
  endToEndRateLimited?: EndToEndFigure;
  steady: SteadyFigure[];
  costCurve: CostPoint[];
  /** Slowdown of end-to-end from the smallest to the largest history, in percent (negative: faster). */
  costSlowdownPct: number;
  replay: ReplayFigure;
  /** Replay of the largest history's log, when it is not the one above (since 2026-11-27, session 16). */
  replayLargest?: ReplayFigure & { history: number };
  size: SizeFigure;
  /** Peak RSS of the bench process while Herald served the live phases, and over the whole run (history building included). */
  peakRssMb: { live: number; wholeRun: number };
  /** Provider calls the fake servers answered, and what they found wrong (must be 0). */
  providerCalls: Record<string, number>;
  /** TCP connections the provider calls came over, per fake (absent in older results). */
  providerConnections?: Record<string, number>;
  providerViolations: number;
  /** FCM over HTTP/1.1 with a kept-alive pool against the SDK's HTTP/2 (absent in older results). */
  fcmTransports?: FcmTransportFigure[];
  seconds: number;
}
