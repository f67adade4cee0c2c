import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runBench } from '../../src/cli/bench/run.ts';
import type { BenchSizes } from '../../src/cli/bench/sizes.ts';
import { rows, table } from '../../src/cli/bench/report.ts';
import { quietProgress } from '../../src/cli/bench/stats.ts';

/** A few hundred notifications through every phase, so the benchmark code cannot rot. Nothing is timed. */
const TINY: BenchSizes = { users: 12, connections: 4, ingestSeconds: 1, batchRecipients: 5, batchedSeconds: 1, bulkItems: 4, bulkConnections: 2, bulkSeconds: 1, endToEnd: 100, steadyRates: [100], steadySeconds: 1, history: [50, 200], replayHistory: 50, costEndToEnd: 50, fcmCalls: { of500: 1, of10: 3 }, phaseProbeRounds: 5_000 };

describe('the benchmark at smoke-test size', () => {
  // A guard against a hang, not a timing: on this shared 2-core machine, beside the rest of the
  // suite, the smoke run has taken from about 75 s to over 120 s.
  it('runs every phase against the real SDK adapters and reports sane figures', { timeout: 300_000 }, async () => {
    const r = await runBench('smoke', TINY, quietProgress);

    assert.ok(r.ingest.accepted > 0 && r.ingest.perSecond > 0, 'ingest accepted notifications');
    assert.equal(r.ingest.errors, 0);
    assert.ok(r.ingest.p99Ms >= r.ingest.p50Ms);
    const alone = r.ingestApiAlone;
    assert.ok(alone && alone.accepted > 0 && alone.errors === 0, `the API alone accepted notifications: ${JSON.stringify(alone)}`);
    if (process.platform === 'linux') assert.ok(alone.cpuMicrosPerNotification && alone.cpuMicrosPerNotification.api > 0, "the API thread's CPU per notification");
    const keyed = r.ingestApiAloneKeyed;
    assert.ok(keyed && keyed.accepted > 0 && keyed.errors === 0, `the API alone accepted keyed sends: ${JSON.stringify(keyed)}`);
    assert.equal(r.ingestBatched.recipientsPerRequest, 5);
    assert.ok(r.ingestBatched.accepted > 0 && r.ingestBatched.accepted % 5 === 0, 'each batched request is 5 notifications');
    assert.equal(r.ingestBatched.errors, 0);

    assert.equal(r.ingestBulk?.batchItemsPerRequest, 4);
    assert.ok(r.ingestBulk.accepted > 0 && r.ingestBulk.accepted % 4 === 0, 'each batch is 4 notifications');
    assert.equal(r.ingestBulk.errors, 0);
    assert.equal(r.endToEndBulk?.notifications, TINY.endToEnd, 'the batched end-to-end run sends as many notifications');
    assert.equal(r.endToEndBulk.failed + r.endToEndBulk.errors, 0);

    // Every send took a slot in its user's window (runBench checks the log) and none was suppressed.
    assert.equal(r.endToEndRateLimited?.notifications, TINY.endToEnd);
    assert.equal(r.endToEndRateLimited.suppressed, 0);
    assert.equal(r.endToEndRateLimited.failed + r.endToEndRateLimited.errors, 0);

    assert.equal(r.endToEnd.notifications, TINY.endToEnd);
    assert.equal(r.endToEnd.suppressed, 0);
    if (process.platform === 'linux') {
      for (const c of [r.endToEnd.cpuMicrosPerNotification, r.endToEndBulk.cpuMicrosPerNotification, r.endToEndRateLimited.cpuMicrosPerNotification]) {
        assert.ok(c && c.api > 0 && c.delivery > 0 && c.projections > 0 && c.fakes > 0, `CPU split by thread: ${JSON.stringify(c)}`);
        assert.ok(c.total >= c.api + c.delivery + c.projections + c.fakes);
      }
    }
    assert.ok(r.endToEnd.perSecond > 0);
    assert.equal(r.endToEnd.failed, 0);
    assert.equal(r.endToEnd.errors, 0);

    const [steady] = r.steady;
    assert.ok(steady && steady.notifications > 0, 'open-loop load was accepted');
    assert.equal(steady.unfinished, 0, 'every accepted notification reached Sent');
    assert.equal(steady.errors, 0);
    assert.ok(steady.p99Ms >= steady.p50Ms && steady.fromRequestP99Ms >= 0);

    assert.deepEqual(r.costCurve.map((c) => c.history), TINY.history);
    for (const c of r.costCurve) {
      assert.ok(c.perSecond > 0 && c.failed === 0 && c.errors === 0);
      assert.ok(c.historyEvents >= 2 * c.history, 'history holds a Requested and a Sent per notification');
      assert.equal(c.visits?.length, 2, 'each point is visited on the way up and on the way back');
      assert.ok(Math.abs(c.perSecond - (c.visits[0]! + c.visits[1]!) / 2) <= 1, 'a point is the mean of its visits');
      if (process.platform === 'linux') assert.ok(c.cpuMicrosPerNotification && c.cpuMicrosPerNotification.projections > 0 && c.cpuMicrosPerNotification.total >= c.cpuMicrosPerNotification.projections, `the CPU split of the point, over its visits: ${JSON.stringify(c.cpuMicrosPerNotification)}`);
    }

    assert.ok(r.replay.logEvents >= r.costCurve.find((c) => c.history === TINY.replayHistory)!.historyEvents && r.replay.applied > 0 && r.replay.perSecond > 0);
    // As `npm run replay` runs: in a process of its own, which reports its own memory.
    assert.ok((r.replay.peakRssMb ?? 0) > 0 && (r.replayLargest?.peakRssMb ?? 0) > 0, 'each replay ran in its own process');
    assert.ok(r.replayLargest && r.replayLargest.history === 200 && r.replayLargest.logEvents >= r.costCurve.at(-1)!.historyEvents && r.replayLargest.logEvents > r.replay.logEvents && r.replayLargest.perSecond > 0, 'the largest log is replayed too');
    assert.ok(r.size.mbPerMillionEvents > 0 && r.peakRssMb.live > 0);
    assert.equal(r.providerViolations, 0);
    assert.ok(r.machine.cpuProbeMs && r.machine.cpuProbeMs.before > 0 && r.machine.cpuProbeMs.after > 0, 'the machine speed probe ran before and after');
    // And before each phase: every live row, each cost-curve visit (up and back down), both replays, FCM alone.
    assert.deepEqual(r.machine.phaseProbes?.map((p) => p.phase), ['ingest', 'ingest, 5 recipients', 'end-to-end', 'ingest, batches', 'end-to-end, batches', '100/s', 'rate-limited', 'API alone', 'API alone, keyed', '50 in log ↑', '200 in log ↑', '200 in log ↓', '50 in log ↓', 'replay', 'replay at scale', 'FCM alone']);
    assert.ok(r.machine.phaseProbes.every((p) => p.ms > 0) && table(r).includes('CPU probe before each phase'));
    for (const route of ['apns', 'fcm', 'sms', 'email']) assert.ok((r.providerCalls[route] ?? 0) > 0, `${route} fake answered calls`);
    for (const route of ['apns', 'fcm', 'sms', 'email']) {
      const connections = r.providerConnections?.[route] ?? 0;
      assert.ok(connections > 0 && connections <= r.providerCalls[route]!, `${route}: its calls came over ${connections} connection(s)`);
    }
    assert.deepEqual(r.fcmTransports?.map((f) => `${f.transport}/${f.batch}`), ['http1/500', 'http2/500', 'http1/10', 'http2/10']);
    for (const f of r.fcmTransports) {
      assert.ok(f.messagesPerSecond > 0 && f.cpuMicrosPerMessage > 0 && f.failed === 0, `${f.transport}/${f.batch}: ${JSON.stringify(f)}`);
      // The SDK's HTTP/2 transport opens a connection per call; the http1 pool is warm by then.
      if (f.transport === 'http2') assert.equal(f.connections, f.calls);
    }
    assert.ok(rows(r).length > 5 && table(r).includes('replay') && table(r).includes('batches of 4 sends') && table(r).includes('the API alone') && table(r).includes('a rate-limited category'));
    // Grouped in thousands when large (1,407 µs on a slow machine once).
    if (process.platform === 'linux') assert.match(table(r), /end-to-end, 200 in log .*projections thread \d{1,3}(,\d{3})* µs/);
  });
});
