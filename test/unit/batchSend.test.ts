import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeliveryMessage, DeliveryProvider, DeliveryResult } from '../../src/ports/deliveryProvider.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { sendBatch } from '../../src/processors/batchSend.ts';
import type { Job } from '../../src/processors/deliveryPlan.ts';
import { RateLimiter } from '../../src/processors/rateLimiter.ts';
import { within } from '../support/wait.ts';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

/** A notification's job with one SMS per phone number, its stream read `readAgoMs` ago; only those matter to a send. */
const job = (notificationId: string, phones: number, readAgoMs = 0): Job => ({
  notificationId,
  readAt: performance.now() - readAgoMs,
  messages: Array.from({ length: phones }, (_, i): DeliveryMessage => ({ route: 'sms', notificationId, to: `+1555000000${i}`, content: { body: 'b' } })),
}) as Job;

/** One SMS a call, as Twilio; `answer` says what each call returns. */
function provider(answer: (messages: readonly DeliveryMessage[], call: number) => DeliveryResult[] | Promise<DeliveryResult[]>) {
  const calls: string[][] = [];
  const p: DeliveryProvider = {
    id: 'fake',
    route: 'sms',
    maxBatchSize: 1,
    limits: { concurrency: 1 },
    send: async (messages) => answer(messages, calls.push(messages.map((m) => `${m.notificationId} ${m.to}`))),
    close: async () => undefined,
  };
  return { provider: p, calls };
}

const sent = (n: number): DeliveryResult[] => Array.from({ length: n }, (_, i) => ({ status: 'sent', providerMessageId: `m${i}` }));

describe('sending a batch', () => {
  it('stopping while a job is partly with the provider: finishes that job, at the rate, and hands back the jobs after it unsent', async () => {
    const stopping = new AbortController();
    const { provider: p, calls } = provider((messages, call) => {
      if (call === 1) stopping.abort();
      return sent(messages.length);
    });
    const [two, one, other] = [job('a', 2), job('b', 1), job('c', 1)];
    const result = await sendBatch([two, one, other], { provider: p, limiter: new RateLimiter(1), stopping: stopping.signal, log: quiet });
    assert.deepEqual(calls, [['a +15550000000'], ['a +15550000001']], 'the second phone of the job under way, and nothing else');
    assert.deepEqual(result.answered.map((a) => [a.job.notificationId, a.results.length]), [['a', 2]]);
    assert.deepEqual(result.unsent.map((j) => j.notificationId), ['b', 'c']);
  });

  it('stopping between jobs while waiting for the limiter: returns at once, sending nothing more', async () => {
    const stopping = new AbortController();
    const { provider: p, calls } = provider((messages) => sent(messages.length));
    const waiting = sendBatch([job('a', 1), job('b', 1), job('c', 1)], { provider: p, limiter: new RateLimiter(0.1), stopping: stopping.signal, log: quiet });
    await new Promise((r) => setImmediate(r));
    stopping.abort();
    const result = await within(1000, 'the batch (the next token is ten seconds away)', waiting);
    assert.equal(calls.length, 1);
    assert.deepEqual(result.unsent.map((j) => j.notificationId), ['b', 'c']);
  });

  it('a call answering fewer results than messages fails those, without giving its jobs the next call\'s results', async () => {
    const { provider: p } = provider((messages, call) => (call === 1 ? [] : sent(messages.length)));
    const result = await sendBatch([job('a', 1), job('b', 1)], { provider: p, limiter: undefined, stopping: new AbortController().signal, log: quiet });
    assert.deepEqual(result.answered.map((a) => [a.job.notificationId, a.results.map((r) => r.status)]), [['a', ['failed']], ['b', ['sent']]]);
  });

  it('once a chunk\'s turn comes, checks again the jobs starting in it that waited long, in one pass, and never a job partly sent', async () => {
    const { provider: p, calls } = provider((messages) => sent(messages.length));
    const checked: string[][] = [];
    const recheck = { afterMs: 1000, drop: async (waited: readonly Job[]) => (checked.push(waited.map((j) => j.notificationId)), { gone: new Set<Job>(), stale: new Set<Job>() }) };
    const result = await sendBatch([job('a', 2, 5000), job('fresh', 1, 0), job('b', 1, 5000)], { provider: { ...p, maxBatchSize: 2 }, limiter: undefined, stopping: new AbortController().signal, log: quiet, recheck });
    assert.deepEqual(checked, [['a'], ['b']], 'a at its first chunk only; the fresh job not at all');
    assert.deepEqual(calls, [['a +15550000000', 'a +15550000001'], ['fresh +15550000000', 'b +15550000000']]);
    assert.deepEqual(result.answered.map((a) => [a.job.notificationId, a.results.length]), [['a', 2], ['fresh', 1], ['b', 1]]);
    assert.deepEqual(result.dropped, []);
  });

  it('a job its check drops sends none of its messages, comes back as dropped, and gives its token to the next job', async () => {
    const { provider: p, calls } = provider((messages) => sent(messages.length));
    const [two, kept] = [job('a', 2, 5000), job('b', 1, 5000)];
    // One token and a clock that never moves: the second job goes only on the token the first gives back.
    const limiter = new RateLimiter(1, () => 0);
    const recheck = { afterMs: 1000, drop: async (waited: readonly Job[]) => ({ gone: new Set(waited.filter((j) => j === two)), stale: new Set<Job>() }) };
    const stopping = new AbortController();
    const result = await within(2000, 'the batch', sendBatch([two, kept], { provider: p, limiter, stopping: stopping.signal, log: quiet, recheck })).finally(() => stopping.abort());
    assert.deepEqual(calls, [['b +15550000000']]);
    assert.deepEqual(result.dropped.map((j) => j.notificationId), ['a']);
    assert.deepEqual(result.answered.map((a) => [a.job.notificationId, a.results.map((r) => r.status)]), [['b', ['sent']]]);
    assert.deepEqual(result.unsent, []);
  });

  for (const { rate, maxBatchSize, jobs } of [{ rate: 100, maxBatchSize: 500, jobs: 500 }, { rate: 3, maxBatchSize: 10, jobs: 10 }, { rate: 2.5, maxBatchSize: 1000, jobs: 12 }]) {
    it(`a batch larger than the route's rate keeps the rate: ${jobs} messages, batches of up to ${maxBatchSize}, ${rate}/s`, async (t) => {
      t.mock.timers.enable({ apis: ['setTimeout'] });
      let now = 0;
      const sends: { at: number; n: number }[] = [];
      const { provider: p } = provider((messages) => (sends.push({ at: now, n: messages.length }), sent(messages.length)));
      let done = false;
      const batch = sendBatch(Array.from({ length: jobs }, (_, i) => job(`n${i}`, 1)), { provider: { ...p, maxBatchSize }, limiter: new RateLimiter(rate, () => now), stopping: new AbortController().signal, log: quiet })
        .finally(() => (done = true));
      for (let step = 0; !done && step < 10_000; step++) {
        await new Promise((r) => setImmediate(r));
        now += 10;
        t.mock.timers.tick(10);
      }
      const result = await batch;
      assert.equal(result.answered.length, jobs, 'every message is sent');
      // The bucket's promise: over any stretch of time, at most a second's worth plus the rate times its length.
      const burst = Math.max(1, rate);
      for (const first of sends) {
        const within = sends.filter((s) => s.at >= first.at);
        for (const last of within) {
          const count = within.filter((s) => s.at <= last.at).reduce((sum, s) => sum + s.n, 0);
          assert.ok(count <= burst + (rate * (last.at - first.at)) / 1000 + 1e-9, `${count} sent from ${first.at} ms to ${last.at} ms at ${rate}/s (calls: ${sends.map((s) => `${s.n}@${s.at}`).join(' ')})`);
        }
      }
    });
  }
});
