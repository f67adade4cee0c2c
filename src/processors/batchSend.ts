import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../ports/deliveryProvider.ts';
import type { Logger } from '../ports/logger.ts';
import type { Job } from './deliveryPlan.ts';
import type { RateLimiter } from './rateLimiter.ts';
import type { Rechecked } from './waitedJobs.ts';
import { SETTLE_MARGIN_MS } from './deliveryInFlight.ts';

export interface BatchSendContext {
  provider: DeliveryProvider;
  limiter: RateLimiter | undefined;
  /** The worker is stopping: send nothing more that can be handed back instead. */
  stopping: AbortSignal;
  log: Logger;
  /**
   * Checks again, once their turn has come, the jobs whose stream was read at least `afterMs` ago
   * (see waitedJobs.ts); `drop` resolves with those no longer to be sent, having settled them, and
   * those whose addresses changed meanwhile, to be planned again.
   */
  recheck?: { afterMs: number; drop: (waited: readonly Job[]) => Promise<Rechecked> };
  /**
   * The group's message timeout and the provider's call bound: a job whose calls could not end
   * before its event is handed out again is not started but handed back (as `stale`), so that no
   * other worker is handed an event whose message is still with the provider (heldTooLong).
   */
  ackWait?: { messageTimeoutMs: number; callBoundMs: number };
}

/**
 * What became of a batch: the jobs the provider answered, with their results, those never sent,
 * those dropped unsent by the check of jobs that waited (theirs to acknowledge), and those that
 * check found planned for addresses no longer the user's (theirs to hand back, to be planned again).
 */
export interface BatchSent {
  answered: { job: Job; results: DeliveryResult[] }[];
  unsent: Job[];
  dropped: Job[];
  stale: Job[];
}

/** A message of the batch, with its job; `first`: the job's first message. */
interface Queued {
  job: Job;
  message: DeliveryMessage;
  first: boolean;
}

/**
 * Calls the provider for a batch, in chunks of its batch size at the route's rate. A chunk is no
 * larger than the limiter's bucket (a second's worth): a 500-message FCM batch on a route limited
 * to 100 a second goes as five calls of 100, a second apart, not as one call of 500. Once the worker
 * is stopping, a chunk not yet with the provider (waiting for the limiter, or its turn) is not
 * sent, nor is any after it: their jobs come back unsent, for the group to hand out again. Only
 * the rest of a job already partly with the provider (a user with two devices, in two calls) is
 * still sent, at the rate: handing that job back would send its first messages again.
 *
 * Once a chunk's turn has come, the jobs that start in it and waited long are checked again, in
 * one pass; those dropped leave the batch (all their messages) and give their tokens back, so the
 * next job need not wait for a slot nothing used. A job already partly sent is not checked: the
 * rest of it goes out, as a suppression that comes after a route delivered lets it.
 */
export async function sendBatch(jobs: readonly Job[], o: BatchSendContext): Promise<BatchSent> {
  const queue: Queued[] = jobs.flatMap((job) => job.messages.map((message, i) => ({ job, message, first: i === 0 })));
  const results = new Map<Job, DeliveryResult[]>();
  const dropped = new Set<Job>();
  const stale = new Set<Job>();
  let stopped = false;
  const chunkSize = Math.min(o.provider.maxBatchSize, o.limiter?.largestTake ?? Infinity);
  for (let from = 0; from < queue.length; ) {
    let chunk = queue.slice(from, from + chunkSize);
    if (!(await turn(o, chunk.length, stopped ? undefined : o.stopping))) {
      stopped = true;
      // Keep only the rest of the job under way, if the chunk starts inside one.
      const next = queue.findIndex((q, i) => i >= from && q.first);
      if (next >= 0) queue.length = next;
      continue;
    }
    const late = heldTooLong(o, queue, from, chunkSize);
    const rechecked = await recheckWaited(o, chunk.filter((q) => !late.has(q.job)));
    for (const job of late) stale.add(job);
    if (late.size > 0) o.log.warn({ handedBack: late.size }, 'deliveries waited so long for a slow provider that their calls could not end before the group hands them out again: handed back unsent, to be sent afresh (README, "Nor by two workers")');
    const gone = new Set([...rechecked.gone, ...rechecked.stale, ...late]);
    if (gone.size > 0) {
      for (const job of rechecked.gone) dropped.add(job);
      for (const job of rechecked.stale) stale.add(job);
      const kept = chunk.filter((q) => !gone.has(q.job));
      o.limiter?.giveBack(chunk.length - kept.length, chunk.length);
      // A dropped (or stale) job starts in this chunk: all of its messages lie from here on.
      queue.splice(from, queue.length - from, ...queue.slice(from).filter((q) => !gone.has(q.job)));
      chunk = kept;
      if (chunk.length === 0) continue;
    }
    const got = await call(o, chunk.map((q) => q.message));
    chunk.forEach((q, i) => {
      const own = results.get(q.job) ?? [];
      own.push(got[i] ?? NO_RESULT);
      results.set(q.job, own);
    });
    from += chunk.length;
  }
  const answered: BatchSent['answered'] = [];
  const unsent: Job[] = [];
  for (const job of jobs) {
    if (dropped.has(job) || stale.has(job)) continue;
    if (job.messages.length > 0 && !results.has(job)) unsent.push(job);
    else answered.push({ job, results: results.get(job) ?? [] });
  }
  return { answered, unsent, dropped: [...dropped], stale: [...stale] };
}

const NONE: Rechecked = { gone: new Set(), stale: new Set() };

/**
 * The jobs starting in the chunk at `from` whose calls (this chunk's, and the next ones' where its
 * messages run on: a user's many devices) could not end before the group hands their event out
 * again, `ackWait.messageTimeoutMs` after it was taken (about when its stream was read). The group's
 * timeout allows for the calls a worker's events in flight make (deliveryInFlight.ts), but batches
 * of one event each behind a slow provider, a user with many devices, or two lanes behind one rate
 * can still hold a job longer: such a job is handed back unsent instead, and sent afresh by
 * whichever worker the group hands it to. Not one whose calls alone outlast the wait: it is sent.
 */
function heldTooLong(o: BatchSendContext, queue: readonly Queued[], from: number, chunkSize: number): Set<Job> {
  const late = new Set<Job>();
  if (!o.ackWait) return late;
  const { messageTimeoutMs, callBoundMs } = o.ackWait;
  const now = performance.now();
  for (let i = from; i < Math.min(from + chunkSize, queue.length); i++) {
    const q = queue[i]!;
    if (!q.first) continue;
    let last = i;
    while (last + 1 < queue.length && queue[last + 1]!.job === q.job) last++;
    const need = Math.ceil((last - from + 1) / chunkSize) * callBoundMs + SETTLE_MARGIN_MS;
    // One that could not fit even taken afresh (more calls than the wait allows: a rate below the
    // batch size, a user's very many devices) goes now: handed back, it would come back as late.
    if (need <= messageTimeoutMs && now - q.job.readAt + need > messageTimeoutMs) late.add(q.job);
  }
  return late;
}

/** The jobs starting in the chunk whose stream was read `afterMs` ago or more, checked again; the ones to drop. */
async function recheckWaited(o: BatchSendContext, chunk: readonly Queued[]): Promise<Rechecked> {
  if (!o.recheck) return NONE;
  const now = performance.now();
  const { afterMs, drop } = o.recheck;
  const waited = chunk.filter((q) => q.first && now - q.job.readAt >= afterMs).map((q) => q.job);
  return waited.length > 0 ? drop(waited) : NONE;
}

const NO_RESULT: DeliveryResult = { status: 'failed', reason: 'no_result_from_provider' };

/** Waits for the rate to allow `n` sends; false, at once, when `stopping` aborts first. */
async function turn(o: BatchSendContext, n: number, stopping: AbortSignal | undefined): Promise<boolean> {
  if (stopping?.aborted) return false;
  return o.limiter ? o.limiter.take(n, stopping) : true;
}

/** One provider call; a call that fails as a whole is a transient failure of each of its messages. */
async function call(o: BatchSendContext, chunk: DeliveryMessage[]): Promise<DeliveryResult[]> {
  try {
    return await o.provider.send(chunk);
  } catch (error) {
    o.log.warn({ err: error, messages: chunk.length }, 'provider call failed as a whole');
    return chunk.map((): DeliveryResult => ({ status: 'failed', reason: 'provider_unavailable', detail: String(error) }));
  }
}
