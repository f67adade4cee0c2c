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
