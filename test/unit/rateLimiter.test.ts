import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/processors/rateLimiter.ts';

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
});
