import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/processors/rateLimiter.ts';
import { within } from '../support/wait.ts';

const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the rate limiter', () => {
  it('bursts one second\'s worth, then lets sends through at the rate', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    const limiter = new RateLimiter(4, () => now);
    for (let i = 0; i < 4; i++) await limiter.take(1);
    let fifth = false;
    void limiter.take(1).then(() => (fifth = true));
    await settled();
    assert.equal(fifth, false);
    now = 250;
    t.mock.timers.tick(250);
    await settled();
    assert.equal(fifth, true, 'a quarter of a second later');
  });

  it('under one send a second, sends one at a time, a whole token each: one every two seconds at 0.5/s', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    const limiter = new RateLimiter(0.5, () => now);
    await limiter.take(1);
    let second = false;
    void limiter.take(1).then(() => (second = true));
    for (const at of [1000, 1900]) {
      t.mock.timers.tick(at - now);
      now = at;
      await settled();
      assert.equal(second, false, `not at ${at} ms`);
    }
    t.mock.timers.tick(100);
    now = 2000;
    await settled();
    assert.equal(second, true, 'at two seconds');
  });

  it('given an aborted signal, takes nothing and says so: the token is left for the next send', async () => {
    const now = 0;
    const limiter = new RateLimiter(1, () => now);
    assert.equal(await limiter.take(1, AbortSignal.abort()), false);
    assert.equal(await limiter.take(1), true, 'the one token is still there');
    const later = new AbortController();
    let third: boolean | undefined;
    void limiter.take(1, later.signal).then((taken) => (third = taken));
    await settled();
    assert.equal(third, undefined, 'and now it is gone');
    later.abort();
    await settled();
    assert.equal(third, false);
  });

  it('stops waiting as soon as the signal aborts, with nothing left scheduled, and takes nothing', async () => {
    let now = 0;
    const limiter = new RateLimiter(1, () => now);
    await limiter.take(1);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const stopping = new AbortController();
    const waiting = limiter.take(1, stopping.signal);
    await settled();
    assert.equal(timers(), before + 1, 'waiting on a timer for the next token');
    now = 999;
    stopping.abort();
    const started = performance.now();
    assert.equal(await waiting, false);
    assert.ok(performance.now() - started < 500, 'at once, not when the token comes');
    assert.equal(timers(), before, 'the timer is cleared');
    now = 1000;
    assert.equal(await limiter.take(1), true, 'the token that came meanwhile is there for the next send');
  });

  it('takes back the tokens of sends that did not happen', async () => {
    const limiter = new RateLimiter(2, () => 0);
    assert.equal(await limiter.take(2), true);
    limiter.giveBack(2, 2);
    assert.equal(await within(1000, 'two tokens given back', limiter.take(2)), true);
    // The clock never moves: a third token could only have come back with the others.
    assert.equal(await limiter.take(1, AbortSignal.timeout(200)), false, 'no more than was taken came back');
  });

  it('never gives back more than the take took: a batch larger than the bucket paid a full bucket, and the sends that happen keep it', async () => {
    const limiter = new RateLimiter(2, () => 0);
    // Five sends, a chunk larger than the bucket, take its two tokens; three of them are dropped.
    assert.equal(await limiter.take(5), true);
    limiter.giveBack(3, 5);
    assert.equal(await limiter.take(1, AbortSignal.timeout(200)), false, 'the two sent still cost the two tokens taken');
    // Four of five dropped: the one sent costs one token, the other comes back.
    const other = new RateLimiter(2, () => 0);
    assert.equal(await other.take(5), true);
    other.giveBack(4, 5);
    assert.equal(await within(1000, 'the token the dropped sends did not use', other.take(1)), true);
    assert.equal(await other.take(1, AbortSignal.timeout(200)), false, 'and only that one');
  });

  it('a take larger than the bucket owes the rest: the next send waits until the whole amount has come in', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    let now = 0;
    const limiter = new RateLimiter(2, () => now);
    assert.equal(await limiter.take(5), true, 'a full bucket is enough to start');
    let next = false;
    void limiter.take(1).then(() => (next = true));
    // The full bucket paid two of the five; the other three come in by 1.5 s, the sixth's token at 2 s.
    for (const at of [500, 1000, 1500, 1900]) {
      t.mock.timers.tick(at - now);
      now = at;
      await settled();
      assert.equal(next, false, `not at ${at} ms`);
    }
    t.mock.timers.tick(100);
    now = 2000;
    await settled();
    assert.equal(next, true, 'at two seconds');
  });

  it('says how large a take keeps the rate: a second\'s worth, whole, at least one', () => {
    assert.deepEqual([100, 2.5, 1, 0.5].map((rate) => new RateLimiter(rate).largestTake), [100, 2, 1, 1]);
  });

  it('a token given back goes at once to a take already waiting for one', async () => {
    const limiter = new RateLimiter(0.001, () => 0);
    assert.equal(await limiter.take(1), true);
    // Its wait, worked out now, would be a thousand seconds.
    const stop = new AbortController();
    const waiting = limiter.take(1, stop.signal);
    await settled();
    limiter.giveBack(1, 1);
    assert.equal(await within(1000, 'the waiting take', waiting).finally(() => stop.abort()), true);
  });
});
