/** The whole benchmark, phase by phase, at the given sizes; the CLI and the smoke test both call it. */
import { RssSampler, type Progress } from './stats.ts';
import { cpuProbeMs, PhaseProbes } from './cpuProbe.ts';
import { startBenchFakes } from './fakes.ts';
import { configureCategory, createUsers, startBenchApi, startBenchHerald, type BenchHerald } from './herald.ts';
import { LIMITED_CATEGORY, LIMITED_POLICY } from '../../../bench/mix.ts';
import { endToEnd, ingest, ingestApiAlone, steady, type ApiAloneFigure, type EndToEndFigure, type IngestFigure, type SteadyFigure } from './phases.ts';
import { removeDir, replayInOwnProcess, sizeOnDisk, historyDir, type ReplayFigure } from './cost.ts';
import { walkCostCurve } from './costCurve.ts';
import { fcmTransports, type FcmTransportFigure } from './fcmTransports.ts';
import type { BenchSizes } from './sizes.ts';
import type { BenchResults } from './results.ts';

export async function runBench(mode: string, sizes: BenchSizes, progress: Progress): Promise<BenchResults> {
  const probeBefore = cpuProbeMs();
  const probes = new PhaseProbes(sizes.phaseProbeRounds);
  /** Says what runs next, then times the probe right before it. */
  const phase = (probe: string, note: string) => {
    progress.note(note);
    probes.before(probe);
  };
  const began = performance.now();
  const startedAt = new Date().toISOString();
  const rss = new RssSampler();
  const fakes = await startBenchFakes();
  const dirs: string[] = [];
  let offset = 0;
  const shape = (count: number) => ({ users: sizes.users, connections: sizes.connections, offset: (offset += count) - count });
  try {
    const fresh = await historyDir(0, sizes.users, progress);
    dirs.push(fresh);
    const live = new RssSampler();
    const bh = await startBenchHerald(fresh, fakes);
    let first: { ingest: IngestFigure; ingestBatched: IngestFigure; ingestBulk: IngestFigure; endToEnd: EndToEndFigure; endToEndBulk: EndToEndFigure; endToEndRateLimited: EndToEndFigure; steady: SteadyFigure[] };
    try {
      progress.note(`creating ${sizes.users} users over HTTP`);
      await createUsers(bh.url, sizes.users);
      phase('ingest', `ingest: autocannon, ${sizes.connections} connections, ${sizes.ingestSeconds} s`);
      const ingested = await ingest(bh, shape(1_000_000), sizes.ingestSeconds);
      phase(`ingest, ${sizes.batchRecipients} recipients`, `ingest: ${sizes.batchRecipients} recipients per request, ${sizes.batchedSeconds} s, then its backlog drains`);
      const batched = await ingest(bh, shape(1_000_000), sizes.batchedSeconds, { recipients: sizes.batchRecipients });
      phase('end-to-end', `end-to-end: ${sizes.endToEnd} notifications`);
      const e2e = await endToEnd(bh, shape(sizes.endToEnd), sizes.endToEnd);
      const bulkShape = (count: number) => ({ ...shape(count), connections: sizes.bulkConnections });
      phase('ingest, batches', `ingest: batches of ${sizes.bulkItems} sends (POST /v1/notifications/batch), ${sizes.bulkConnections} connections, ${sizes.bulkSeconds} s`);
      const bulk = await ingest(bh, bulkShape(1_000_000), sizes.bulkSeconds, { batch: sizes.bulkItems });
      phase('end-to-end, batches', `end-to-end: ${sizes.endToEnd} notifications in batches of ${sizes.bulkItems}`);
      const e2eBulk = await endToEnd(bh, bulkShape(sizes.endToEnd), sizes.endToEnd, sizes.bulkItems);
      const steadies: SteadyFigure[] = [];
      for (const rate of sizes.steadyRates) {
        phase(`${rate.toLocaleString('en')}/s`, `steady: ${rate}/s open loop for ${sizes.steadySeconds} s`);
        steadies.push(await steady(bh, shape(rate * sizes.steadySeconds), rate, sizes.steadySeconds));
      }
      // Last of the live phases, so the rows before it are measured as in earlier runs.
      const { max, windowSeconds, window } = LIMITED_POLICY.rateLimit;
      await configureCategory(bh.url, LIMITED_CATEGORY, LIMITED_POLICY);
      phase('rate-limited', `end-to-end: ${sizes.endToEnd} notifications in category ${LIMITED_CATEGORY}, at most ${max} per user per ${windowSeconds} s (${window})`);
      const before = await bh.herald.events.headPosition();
      const e2eLimited = await endToEnd(bh, { ...shape(sizes.endToEnd), category: LIMITED_CATEGORY }, sizes.endToEnd);
      await limitApplied(bh, before, e2eLimited);
      first = { ingest: ingested, ingestBatched: batched, ingestBulk: bulk, endToEnd: e2e, endToEndBulk: e2eBulk, endToEndRateLimited: e2eLimited, steady: steadies };
    } finally {
      await bh.stop();
    }
    // The same load against the API alone, on the same data dir: what the 202 path accepts when
    // deliveries and projections do not share the cores (its backlog is never delivered; the dir
    // is discarded). A first short run (2 s; 1 s in --quick, which must stay under a minute)
    // warms the new HTTP server's paths.
    const api = await startBenchApi(fresh);
    let apiAlone: ApiAloneFigure;
    let apiAloneKeyed: ApiAloneFigure;
    try {
      const warmUp = Math.max(1, Math.min(2, Math.round(sizes.ingestSeconds / 3)));
      progress.note(`ingest, the API alone (no deliveries or projections): ${sizes.connections} connections, ${sizes.ingestSeconds} s after ${warmUp} s of warm-up`);
      await ingestApiAlone(api.url, shape(1_000_000), warmUp);
      probes.before('API alone');
      apiAlone = await ingestApiAlone(api.url, shape(1_000_000), sizes.ingestSeconds);
      // What an idempotency key costs the 202 path: before writing, a keyed send reads the stream
      // its key names for each recipient and channel (src/commands/appendSend.ts, earlierSend).
      progress.note(`ingest, the API alone, each send with an idempotency key: ${sizes.ingestSeconds} s`);
      probes.before('API alone, keyed');
      apiAloneKeyed = await ingestApiAlone(api.url, { ...shape(1_000_000), keyed: true }, sizes.ingestSeconds);
    } finally {
      await api.stop();
      live.stop();
    }
    const { costCurve, dirOf } = await walkCostCurve(fakes, sizes, shape, probes, progress, dirs);
    const largest = dirOf.get(sizes.history.at(-1)!)!;
    const size = await sizeOnDisk(largest);
    phase('replay', `replay: every read model into fresh collections (log of ${sizes.replayHistory.toLocaleString('en')} notifications)`);
    const replayed = await replayInOwnProcess(dirOf.get(sizes.replayHistory) ?? largest, progress);
    const largestHistory = sizes.history.at(-1)!;
    let replayedLargest: (ReplayFigure & { history: number }) | undefined;
    if (dirOf.has(sizes.replayHistory) && largestHistory !== sizes.replayHistory) {
      phase('replay at scale', `replay at scale (a diagnostic): the log of ${largestHistory.toLocaleString('en')} notifications`);
      replayedLargest = { history: largestHistory, ...(await replayInOwnProcess(largest, progress)) };
    }
    const [low, high] = [costCurve[0]?.perSecond ?? 0, costCurve.at(-1)?.perSecond ?? 0];
    // Herald's own provider calls end here; the transport phase's are not counted in them.
    const calls = await fakes.counts();
    let transports: FcmTransportFigure[] | undefined;
    if (sizes.fcmCalls) {
      phase('FCM alone', `fcm transports: the adapter alone, http1 and http2, ${sizes.fcmCalls.of500} calls of 500 and ${sizes.fcmCalls.of10} of 10`);
      transports = await fcmTransports(fakes, [{ batch: 500, calls: sizes.fcmCalls.of500 }, { batch: 10, calls: sizes.fcmCalls.of10 }]);
    }
    return {
      mode,
      startedAt,
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version, platform: `${process.platform}-${process.arch}`, cpuProbeMs: { before: probeBefore, after: cpuProbeMs() }, phaseProbeRounds: probes.rounds, phaseProbes: probes.taken },
      sizes,
      ...first,
      ingestApiAlone: apiAlone,
      ingestApiAloneKeyed: apiAloneKeyed,
      costCurve,
      costSlowdownPct: low > 0 ? Math.round(((low - high) / low) * 1000) / 10 : 0,
      replay: replayed,
      ...(replayedLargest ? { replayLargest: replayedLargest } : {}),
      size,
      peakRssMb: { live: live.peakMb, wholeRun: rss.peakMb },
      providerCalls: calls.received,
      providerConnections: calls.connections,
      providerViolations: calls.violations,
      ...(transports ? { fcmTransports: transports } : {}),
      seconds: Math.round((performance.now() - began) / 1000),
    };
  } finally {
    rss.stop();
    await fakes.close();
    for (const dir of dirs) await removeDir(dir);
  }
}

/**
 * The rate-limited row measures what it says only if every send took a slot in its user's window
 * and none was suppressed (a suppressed notification is not delivered, so it would count as done
 * for free).
 */
async function limitApplied(bh: BenchHerald, from: number, figure: EndToEndFigure): Promise<void> {
  if (figure.suppressed) {
    throw new Error(`the rate-limited end-to-end run suppressed ${figure.suppressed} notifications, so it measured less than it sent: raise LIMITED_POLICY.rateLimit.max in bench/mix.ts above the sends per user`);
  }
  const slots = (await bh.herald.events.readAll({ fromPosition: from, filter: { eventTypes: ['RateSlotTaken'] } })).length;
  if (slots !== figure.notifications) {
    throw new Error(`the rate-limited end-to-end run took ${slots} rate slots for ${figure.notifications} notifications: category ${LIMITED_CATEGORY} was not limited as configured (see LIMITED_POLICY in bench/mix.ts)`);
  }
}
