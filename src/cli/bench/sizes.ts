/** How much the benchmark runs: each phase's size, and the two presets (the full run and `--quick`). */

export interface BenchSizes {
  users: number;
  connections: number;
  ingestSeconds: number;
  /** A second ingest figure with this many recipients per request, for `batchedSeconds` (its backlog drains after). */
  batchRecipients: number;
  batchedSeconds: number;
  /** Ingest and end-to-end again through POST /v1/notifications/batch: this many single-recipient sends per request, over `bulkConnections`. */
  bulkItems: number;
  bulkConnections: number;
  bulkSeconds: number;
  endToEnd: number;
  /** Open-loop rates (notifications/s) and how long each runs; 2,000/s is the soft real-time target. */
  steadyRates: number[];
  steadySeconds: number;
  /** Notifications of history before each cost-curve point. */
  history: number[];
  /**
   * Which of those logs replay rebuilds for the target's figure (the same log since the figure
   * began). When the largest history differs, it is replayed too, as a diagnostic of the rate at
   * scale, where a pass's fixed costs weigh little.
   */
  replayHistory: number;
  /** New notifications measured at each cost-curve point. */
  costEndToEnd: number;
  /**
   * Visits per cost-curve point: 2 walks the curve there and back and averages each point's two
   * visits (the full run); 1 visits each point once (`--quick`, which must stay under a minute).
   * Absent: 2.
   */
  costVisits?: 1 | 2;
  /** The FCM adapter alone on each transport: sendEach calls of 500 messages, and of 10 (absent in older results). */
  fcmCalls?: { of500: number; of10: number };
  /** Rounds of the CPU probe before each phase (cpuProbe.ts); absent: 100,000, about 0.2 s each. */
  phaseProbeRounds?: number;
}

export const QUICK: BenchSizes = { users: 200, connections: 32, ingestSeconds: 2, batchRecipients: 100, batchedSeconds: 1, bulkItems: 20, bulkConnections: 4, bulkSeconds: 2, endToEnd: 3_000, steadyRates: [500, 2_000], steadySeconds: 2, history: [1_000, 10_000], replayHistory: 10_000, costEndToEnd: 1_000, costVisits: 1, fcmCalls: { of500: 4, of10: 40 } };
export const FULL: BenchSizes = { users: 1_000, connections: 32, ingestSeconds: 10, batchRecipients: 100, batchedSeconds: 3, bulkItems: 20, bulkConnections: 4, bulkSeconds: 10, endToEnd: 20_000, steadyRates: [500, 2_000, 3_000, 4_000], steadySeconds: 8, history: [10_000, 100_000, 1_000_000], replayHistory: 100_000, costEndToEnd: 10_000, fcmCalls: { of500: 40, of10: 400 } };
