import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/configError.ts';

describe('configuration: the projector pause', () => {
  it('defaults to 250 ms and takes HERALD_PROJECTOR_MAX_PAUSE_MS', () => {
    assert.equal(loadConfig({}).projectorMaxPauseMs, 250);
    assert.equal(loadConfig({ HERALD_PROJECTOR_MAX_PAUSE_MS: '0' }).projectorMaxPauseMs, 0);
    assert.equal(loadConfig({ HERALD_PROJECTOR_MAX_PAUSE_MS: '1000' }).projectorMaxPauseMs, 1000);
  });

  it('refuses a value outside 0–5,000 ms, naming the variable', () => {
    for (const bad of ['-1', '5001', 'soon']) {
      assert.throws(() => loadConfig({ HERALD_PROJECTOR_MAX_PAUSE_MS: bad }), (e: unknown) => e instanceof ConfigError && /HERALD_PROJECTOR_MAX_PAUSE_MS/.test(e.message));
    }
  });
});

describe('configuration: the background threads\' semi-space', () => {
  it('defaults to 64 MB and takes HERALD_SEMI_SPACE_MB', () => {
    assert.equal(loadConfig({}).backgroundSemiSpaceMb, 64);
    assert.equal(loadConfig({ HERALD_SEMI_SPACE_MB: '16' }).backgroundSemiSpaceMb, 16);
  });

  it('refuses a value outside 1–1,024 MB, naming the variable', () => {
    for (const bad of ['0', '1025', 'big', '1.5']) {
      assert.throws(() => loadConfig({ HERALD_SEMI_SPACE_MB: bad }), (e: unknown) => e instanceof ConfigError && /HERALD_SEMI_SPACE_MB/.test(e.message));
    }
  });
});

describe('configuration: the stop\'s deadline', () => {
  it('defaults to 20 s and takes HERALD_STOP_TIMEOUT_MS', () => {
    assert.equal(loadConfig({}).stopTimeoutMs, 20_000);
    assert.equal(loadConfig({ HERALD_STOP_TIMEOUT_MS: '90000' }).stopTimeoutMs, 90_000);
  });

  it('refuses a value outside 100 ms–10 min, naming the variable', () => {
    for (const bad of ['0', '99', '600001', 'later']) {
      assert.throws(() => loadConfig({ HERALD_STOP_TIMEOUT_MS: bad }), (e: unknown) => e instanceof ConfigError && /HERALD_STOP_TIMEOUT_MS/.test(e.message));
    }
  });
});

describe('configuration: the devices a user may hold', () => {
  it('defaults to 100 and takes HERALD_MAX_DEVICES_PER_USER; refuses a value outside 1–10,000, naming the variable', () => {
    assert.equal(loadConfig({}).limits.maxDevicesPerUser, 100);
    assert.equal(loadConfig({ HERALD_MAX_DEVICES_PER_USER: '5' }).limits.maxDevicesPerUser, 5);
    for (const bad of ['0', '10001', 'many', '2.5']) {
      assert.throws(() => loadConfig({ HERALD_MAX_DEVICES_PER_USER: bad }), (e: unknown) => e instanceof ConfigError && /HERALD_MAX_DEVICES_PER_USER/.test(e.message));
    }
  });
});

describe('configuration: how far ahead a send may be scheduled', () => {
  it('defaults to 366 days and takes HERALD_MAX_SEND_AHEAD_DAYS', () => {
    assert.equal(loadConfig({}).limits.maxSendAheadDays, 366);
    assert.equal(loadConfig({ HERALD_MAX_SEND_AHEAD_DAYS: '30' }).limits.maxSendAheadDays, 30);
  });

  it('refuses a value outside 1–3,660 days, naming the variable', () => {
    for (const bad of ['0', '3661', 'forever', '1.5']) {
      assert.throws(() => loadConfig({ HERALD_MAX_SEND_AHEAD_DAYS: bad }), (e: unknown) => e instanceof ConfigError && /HERALD_MAX_SEND_AHEAD_DAYS/.test(e.message));
    }
  });
});

describe('configuration: what start-up warns about', () => {
  it('rate-limit settings without their _MAX are named, since no limit applies; with _MAX, or alone, nothing is said', () => {
    assert.deepEqual(loadConfig({ HERALD_USER_RATE_LIMIT_WINDOW_SECONDS: '3600', HERALD_USER_RATE_LIMIT_OVER: 'defer' }).warnings, [
      'HERALD_USER_RATE_LIMIT_WINDOW_SECONDS, HERALD_USER_RATE_LIMIT_OVER are set but HERALD_USER_RATE_LIMIT_MAX is not, so no such limit applies; set HERALD_USER_RATE_LIMIT_MAX to turn it on',
    ]);
    assert.deepEqual(loadConfig({ HERALD_RATE_LIMIT_WINDOW: 'fixed' }).warnings, ['HERALD_RATE_LIMIT_WINDOW is set but HERALD_RATE_LIMIT_MAX is not, so no such limit applies; set HERALD_RATE_LIMIT_MAX to turn it on']);
    const on = loadConfig({ HERALD_USER_RATE_LIMIT_MAX: '10', HERALD_USER_RATE_LIMIT_WINDOW_SECONDS: '3600' });
    assert.deepEqual([on.warnings, on.userRateLimit?.max, on.userRateLimit?.windowSeconds], [[], 10, 3600]);
    assert.deepEqual(loadConfig({}).warnings, []);
  });

  it('the sandbox\'s failure rate and latency, testing aids, are named in a warning when set', () => {
    assert.deepEqual(loadConfig({ HERALD_SANDBOX_FAILURE_RATE: '0.5', HERALD_SANDBOX_LATENCY_MS: '200' }).warnings, [
      'HERALD_SANDBOX_FAILURE_RATE=0.5: the sandbox fails 50 % of its calls on purpose (a testing aid); unset it to deliver everything',
      'HERALD_SANDBOX_LATENCY_MS=200: the sandbox answers 200 ms late on purpose (a testing aid)',
    ]);
  });
});
