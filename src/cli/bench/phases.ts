/** The measured phases that run against a live benchmark Herald over HTTP. */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { IngestFinished, IngestSummary } from '../../../bench/loadIngest.ts';
import type { OpenResult } from '../../../bench/loadOpen.ts';
import { runBenchProcess } from './children.ts';
import { countStatus, settled, type BenchHerald } from './herald.ts';
import { cpuSnapshot, cpuSplit, type CpuSplit } from './threadCpu.ts';
import { percentile, round } from './stats.ts';

export interface LoadShape {
  users: number;
  connections: number;
  /** Request counter offset, so phases do not repeat each other's (user, channel) sequence. */
  offset: number;
  /** The sends' category (absent: the bench's unlimited one). */
  category?: string;
  /** Each send with an idempotency key of its own (single sends only). */
  keyed?: boolean;
}

/** What one request carries: `recipients` users of one send, or a batch of `batch` single-recipient sends (POST /v1/notifications/batch). */
export type RequestShape = { recipients: number; batch?: undefined } | { batch: number; recipients?: undefined };

export interface IngestFigure {
  /** Notifications accepted per second (requests × notifications per request). */
  perSecond: number;
  recipientsPerRequest: number;
  /** Sends per request when the figure is of POST /v1/notifications/batch (absent otherwise). */
  batchItemsPerRequest?: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  accepted: number;
  errors: number;
  seconds: number;
  connections: number;
}

/** Notifications per request, and the load generator's arguments for that shape. */
function perRequestOf(shape: LoadShape, request: RequestShape): { n: number; args: { recipients: number } | { batch: number } } {
  if (request.batch !== undefined) return { n: request.batch, args: { batch: request.batch } };
  const recipients = Math.min(request.recipients, shape.users);
  return { n: recipients, args: { recipients } };
}

/** Closed-loop HTTP ingest for `seconds` by autocannon in its own process; waits for the backlog after. */
export async function ingest(bh: BenchHerald, shape: LoadShape, seconds: number, request: RequestShape = { recipients: 1 }): Promise<IngestFigure> {
  const figure = await load(bh.url, shape, seconds, request);
  await settled(bh.herald, 600_000);
  return figure;
}

export interface ApiAloneFigure extends IngestFigure {
  /** CPU per notification of the API (main) thread and of the process's other threads (GC helpers, the fsync's pool thread); Linux only. */
  cpuMicrosPerNotification?: { api: number; otherThreads: number };
}

/**
 * The same closed loop against a Herald that runs the API alone (no delivery or projection
 * threads): what the 202 path accepts when it does not share the cores with deliveries. Nothing
 * is delivered, so nothing is waited for after.
 */
export async function ingestApiAlone(url: string, shape: LoadShape, seconds: number, request: RequestShape = { recipients: 1 }): Promise<ApiAloneFigure> {
  const before = cpuSnapshot();
  const figure = await load(url, shape, seconds, request);
  const after = cpuSnapshot();
  if (!before || !after) return figure;
  const split = cpuSplit(before, after, {}, figure.accepted);
  return { ...figure, cpuMicrosPerNotification: { api: split.api, otherThreads: split.otherThreads } };
}

async function load(url: string, shape: LoadShape, seconds: number, request: RequestShape): Promise<IngestFigure> {
  const { n, args } = perRequestOf(shape, request);
  const s = await runBenchProcess<IngestSummary>('loadIngest.ts', { url, users: shape.users, connections: shape.connections, duration: seconds, offset: shape.offset, ...(shape.category ? { category: shape.category } : {}), ...(shape.keyed ? { keyed: true } : {}), ...args });
  return {
    perSecond: round(s.perSecond * n), recipientsPerRequest: request.batch === undefined ? n : 1, ...(request.batch === undefined ? {} : { batchItemsPerRequest: n }), requestsPerSecond: round(s.perSecond),
    p50Ms: s.latencyMs.p50, p99Ms: s.latencyMs.p99, maxMs: s.latencyMs.max, accepted: s.accepted * n, errors: s.errors, seconds: round(s.seconds, 1), connections: shape.connections,
  };
}

export interface EndToEndFigure {
  perSecond: number;
  notifications: number;
  seconds: number;
  ingestPerSecond: number;
  /** Sends per request when the run used POST /v1/notifications/batch (absent: one per request). */
  batchItemsPerRequest?: number;
  failed: number;
  /** Suppressed instead of sent (a rate limit, an opt-out): not delivered, so a run that has any measures less than its count (absent in older results). */
  suppressed?: number;
  errors: number;
  /** CPU per notification by thread, from the first request to the end (Linux; absent elsewhere and in older results). */
  cpuMicrosPerNotification?: CpuSplit;
}

/**
 * `count` notifications sent as fast as they are accepted (one per request, or in batches of
 * `batch`); timed from the first request until all are Sent and projected.
 */
export async function endToEnd(bh: BenchHerald, shape: LoadShape, count: number, batch?: number): Promise<EndToEndFigure> {
  const [failedBefore, suppressedBefore] = [await countStatus(bh.herald, 'failed'), await countStatus(bh.herald, 'suppressed')];
  const n = batch ?? 1;
  const cpuBefore = cpuSnapshot(bh.fakesPid);
  // Watching for the end starts at the last response, not when the generator exits (see loadIngest.ts).
  let lastResponse!: () => void;
  const answered = new Promise<void>((resolve) => (lastResponse = resolve));
  const onLine = (line: unknown) => {
    if ((line as Partial<IngestFinished>).finishedAt) lastResponse();
  };
  const load = runBenchProcess<IngestSummary>('loadIngest.ts', { url: bh.url, users: shape.users, connections: shape.connections, amount: Math.ceil(count / n), offset: Math.floor(shape.offset / n), ...(shape.category ? { category: shape.category } : {}), ...(batch ? { batch } : {}) }, { onLine });
  await Promise.race([answered, load]);
  const doneAt = await settled(bh.herald, 600_000, 10);
  const cpuAfter = cpuSnapshot(bh.fakesPid);
  const s = await load;
  const seconds = (Math.max(doneAt, s.finishedAt) - s.startedAt) / 1000;
  return {
    perSecond: round((s.accepted * n) / seconds),
    notifications: s.accepted * n,
    seconds: round(seconds, 2),
    ingestPerSecond: round(s.perSecond * n),
    ...(batch ? { batchItemsPerRequest: batch } : {}),
    failed: (await countStatus(bh.herald, 'failed')) - failedBefore,
    suppressed: (await countStatus(bh.herald, 'suppressed')) - suppressedBefore,
    errors: s.errors,
    ...(cpuBefore && cpuAfter ? { cpuMicrosPerNotification: cpuSplit(cpuBefore, cpuAfter, { delivery: bh.herald.threads?.delivery?.tid, projections: bh.herald.threads?.projections?.tid }, s.accepted * n) } : {}),
  };
}

export interface SteadyFigure {
  rate: number;
  achievedPerSecond: number;
  /** From the 202 to the notification's last NotificationSent. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From sending the request to the last NotificationSent: includes any queueing for the 202. */
  fromRequestP50Ms: number;
  fromRequestP99Ms: number;
  ackP50Ms: number;
  ackP99Ms: number;
  notifications: number;
  unfinished: number;
  errors: number;
}

/** Latest NotificationSent `created` per notification after `from` (every route delivered). */
async function sentTimes(bh: BenchHerald, from: number): Promise<Map<string, number>> {
  const times = new Map<string, number>();
  for (let position = from; ;) {
    const page = await bh.herald.events.readAll({ fromPosition: position, maxCount: 10_000, filter: { eventTypes: ['NotificationSent'] } });
    if (page.length === 0) return times;
    for (const e of page) {
      const id = (e.data as { notificationId: string }).notificationId;
      times.set(id, Math.max(times.get(id) ?? 0, e.created));
    }
    position = page.at(-1)!.position;
  }
}

/** Open-loop load at a fixed rate; latency from each 202 to the notification's last NotificationSent. */
export async function steady(bh: BenchHerald, shape: LoadShape, rate: number, seconds: number): Promise<SteadyFigure> {
  const from = await bh.herald.events.headPosition();
  const out = join(tmpdir(), `herald-bench-open-${process.pid}-${rate}-${Date.now()}.json`);
  await runBenchProcess('loadOpen.ts', { url: bh.url, users: shape.users, rate, seconds, out, offset: shape.offset });
  const result = JSON.parse(await readFile(out, 'utf8')) as OpenResult;
  await rm(out, { force: true });
  const drained = await settled(bh.herald, 300_000).then(() => true, () => false);
  const sent = await sentTimes(bh, from);
  const latencies: number[] = [];
  const fromRequest: number[] = [];
  for (const [id, sentAt, at] of result.accepts) {
    const t = sent.get(id);
    if (t === undefined) continue;
    latencies.push(t - at);
    fromRequest.push(t - sentAt);
  }
  return {
    rate,
    achievedPerSecond: round(result.accepted / Math.max(result.seconds, result.acceptSeconds)),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    fromRequestP50Ms: percentile(fromRequest, 50),
    fromRequestP99Ms: percentile(fromRequest, 99),
    ackP50Ms: round(percentile(result.ackMs, 50), 1),
    ackP99Ms: round(percentile(result.ackMs, 99), 1),
    notifications: result.accepts.length,
    unfinished: result.accepts.length - latencies.length,
    errors: result.errors + (drained ? 0 : 1),
  };
}
