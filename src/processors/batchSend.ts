import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../ports/deliveryProvider.ts';
import type { Logger } from '../ports/logger.ts';
import type { Job } from './deliveryPlan.ts';
import type { RateLimiter } from './rateLimiter.ts';

export interface BatchSendContext {
  provider: DeliveryProvider;
  limiter: RateLimiter | undefined;
  /** The worker is stopping: send nothing more that can be handed back instead. */
  stopping: AbortSignal;
  log: Logger;
}

/** What became of a batch: the jobs the provider answered, with their results, and those never sent. */
export interface BatchSent {
  answered: { job: Job; results: DeliveryResult[] }[];
  unsent: Job[];
}

/**
 * Calls the provider for a batch, in chunks of its batch size at the route's rate. Once the worker
 * is stopping, a chunk not yet with the provider (waiting for the limiter, or its turn) is not
 * sent, nor is any after it: their jobs come back unsent, for the group to hand out again. Only
 * the rest of a job already partly with the provider (a user with two devices, in two calls) is
 * still sent, at the rate: handing that job back would send its first messages again.
 */
export async function sendBatch(jobs: readonly Job[], o: BatchSendContext): Promise<BatchSent> {
  const messages = jobs.flatMap((j) => j.messages);
  const starts = jobStarts(jobs);
  const results: DeliveryResult[] = [];
  let end = messages.length;
  let stopped = false;
  for (let from = 0; from < end; ) {
    const chunk = messages.slice(from, Math.min(end, from + o.provider.maxBatchSize));
    if (await turn(o, chunk.length, stopped ? undefined : o.stopping)) {
      const got = await call(o, chunk);
      results.push(...chunk.map((_, i) => got[i] ?? NO_RESULT));
      from += chunk.length;
    } else {
      stopped = true;
      end = starts.includes(from) ? from : (starts.find((s) => s > from) ?? messages.length);
    }
  }
  const answered: BatchSent['answered'] = [];
  const unsent: Job[] = [];
  let offset = 0;
  for (const job of jobs) {
    const start = offset;
    offset += job.messages.length;
    if (job.messages.length > 0 && start >= results.length) unsent.push(job);
    else answered.push({ job, results: results.slice(start, offset) });
  }
  return { answered, unsent };
}

const NO_RESULT: DeliveryResult = { status: 'failed', reason: 'no_result_from_provider' };

/** Where each job's messages start in the batch, in order (a job without messages starts nowhere). */
function jobStarts(jobs: readonly Job[]): number[] {
  const starts: number[] = [];
  let offset = 0;
  for (const job of jobs) {
    if (job.messages.length > 0) starts.push(offset);
    offset += job.messages.length;
  }
  return starts;
}

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
