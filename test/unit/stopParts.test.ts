import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAIN_CLOSE_MS, STOP_BACKSTOP_MS, STORES_CLOSE_MS, StopBudget, StopDeadlineError } from '../../src/stopDeadline.ts';
import { loadConfig } from '../../src/config.ts';
import { stopParts } from '../../src/stopParts.ts';

/** A part that takes `ms`, or until the deadline when it would take longer, then says it passed it: as each real part does. */
const part = (name: 'http' | 'delivery' | 'projections', ms: number, log: string[]) => async (budget: StopBudget) => {
  log.push(`${name} started`);
  const late = ms > budget.left();
  await sleep(Math.min(ms, budget.left()));
  log.push(`${name} done`);
  if (late) throw new StopDeadlineError(budget.deadlineMs, [name]);
};

describe('the parts of a stop', () => {
  it('stops the HTTP API and the deliveries side by side, then the projector, then closes', async () => {
    const log: string[] = [];
    const started = performance.now();
    await stopParts(new StopBudget(2_000), {
      http: part('http', 300, log),
      delivery: part('delivery', 300, log),
      projections: part('projections', 0, log),
      close: [() => void log.push('closed')],
    });
    const tookMs = performance.now() - started;
    assert.deepEqual(log.slice(0, 2), ['http started', 'delivery started'], 'both at once');
    assert.deepEqual(log.slice(4), ['projections started', 'projections done', 'closed']);
    assert.ok(tookMs < 550, `one wait, not two after each other: ${Math.round(tookMs)} ms`);
  });

  it('past the deadline: the projector stops at the deadline, every part still stopped and closed, one error naming what was unfinished', async () => {
    const log: string[] = [];
    const budget = new StopBudget(300);
    const started = performance.now();
    const stopped = stopParts(budget, {
      // A part that does not even end at the deadline (a thread still closing its stores).
      http: async (b) => {
        log.push('http started');
        await sleep(500);
        log.push('http ended');
        throw new StopDeadlineError(b.deadlineMs, ['http']);
      },
      delivery: part('delivery', 10_000, log),
      projections: part('projections', 0, log),
      close: [() => void log.push('closed')],
    });
    await assert.rejects(stopped, (error: unknown) => error instanceof StopDeadlineError && error.unfinished.join() === 'http,delivery' && error.deadlineMs === 300);
    const tookMs = performance.now() - started;
    assert.ok(log.indexOf('projections started') < log.indexOf('http ended'), `the projector did not wait for the part stuck past the deadline: ${log.join()}`);
    assert.equal(log.at(-1), 'closed');
    assert.ok(tookMs < 500 + 250, `no longer than the stuck part: ${Math.round(tookMs)} ms`);
  });

  it('past the deadline, the main thread\'s closes still get their time after a thread\'s, before the backstop (main.ts) would cut them', async () => {
    const deadlineMs = 200;
    const started = performance.now();
    let closed = -1;
    const stopped = stopParts(new StopBudget(deadlineMs), {
      // A thread that does not answer its stop: terminated STORES_CLOSE_MS past the deadline, as backendThread.ts does it.
      delivery: async (b) => {
        await sleep(b.left(STORES_CLOSE_MS));
        throw new StopDeadlineError(b.deadlineMs, ['delivery']);
      },
      projections: () => undefined,
      // The main thread's stores on a slow disk: 2.5 s of final checkpoints, more than the 2 s a 5 s backstop left them.
      close: [async () => {
        await sleep(2_500);
        closed = performance.now() - started;
      }],
    });
    await assert.rejects(stopped, StopDeadlineError);
    assert.ok(closed > 0 && closed < deadlineMs + STOP_BACKSTOP_MS, `the close ended ${Math.round(closed - deadlineMs)} ms past the deadline; the backstop exits ${STOP_BACKSTOP_MS} ms past it`);
  });

  it('the stop\'s budgets add up inside Kubernetes\' default grace period (30 s) with the default deadline, a second to spare for the exit', () => {
    const { stopTimeoutMs } = loadConfig({ HERALD_DATA_DIR: '/tmp/herald-unused' }, 'all');
    assert.equal(STOP_BACKSTOP_MS, STORES_CLOSE_MS + MAIN_CLOSE_MS, 'the backstop waits for the threads\' closes, then the main thread\'s');
    assert.ok(MAIN_CLOSE_MS >= 5_000, 'the main thread\'s final checkpoints get 5 s');
    assert.ok(stopTimeoutMs + STOP_BACKSTOP_MS <= 30_000 - 1_000, `${stopTimeoutMs} + ${STOP_BACKSTOP_MS} ms`);
  });

  it('an unexpected failure of one part is told, after every part stopped and closed', async () => {
    const log: string[] = [];
    const broken = new Error('the delivery thread did not stop cleanly');
    await assert.rejects(stopParts(new StopBudget(1_000), {
      delivery: () => Promise.reject(broken),
      projections: part('projections', 0, log),
      close: [() => void log.push('closed')],
    }), broken);
    assert.deepEqual(log, ['projections started', 'projections done', 'closed']);
  });

  it('the last log line says what becomes of each unfinished part, and only of those', () => {
    const http = new StopDeadlineError(20_000, ['http']).summary();
    assert.match(http, /with http unfinished: stores closed and checkpoints written; the requests cut got no answer/);
    assert.doesNotMatch(http, /provider/);
    const delivery = new StopDeadlineError(20_000, ['delivery', 'projections']).summary();
    assert.match(delivery, /with delivery, projections unfinished: .*sent again at the next start; the read models catch up/);
    assert.doesNotMatch(delivery, /requests cut/);
  });
});
