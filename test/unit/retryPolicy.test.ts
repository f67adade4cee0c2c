import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, MAX_RETRY_AFTER_MS, retryDelayMs, retryWindowMs } from '../../src/processors/retryPolicy.ts';

const minutes = (ms: number) => ms / 60_000;

describe('the retry policy', () => {
  it('by default rides out a provider outage of minutes: push and email retried for up to about 32 minutes, SMS 8.5', () => {
    for (const route of ['apns', 'fcm', 'email'] as const) assert.equal(Math.round(minutes(retryWindowMs(DEFAULT_RETRY_POLICY, route))), 32, route);
    assert.equal(minutes(retryWindowMs(DEFAULT_RETRY_POLICY, 'sms')).toFixed(1), '8.5');
    const longest = Math.max(...Array.from({ length: 11 }, (_, i) => retryDelayMs(DEFAULT_RETRY_POLICY, i + 1, undefined, () => 0.999_999)));
    assert.ok(longest <= DEFAULT_RETRY_POLICY.maxDelayMs && longest > DEFAULT_RETRY_POLICY.maxDelayMs * 0.99, 'the 15-minute cap is reached by the last retries');
  });

  it('waits a random share of the ceiling, never less than the provider\'s Retry-After', () => {
    assert.equal(retryDelayMs(DEFAULT_RETRY_POLICY, 3, undefined, () => 0.5), 2_000);
    assert.equal(retryDelayMs(DEFAULT_RETRY_POLICY, 3, 30_000, () => 0.5), 30_000);
    assert.equal(retryDelayMs(DEFAULT_RETRY_POLICY, 30, undefined, () => 0.5), 450_000, 'capped');
  });

  it('honours a Retry-After of up to a day: a larger one (or a garbled one) waits a day, a date that exists', () => {
    assert.equal(retryDelayMs(DEFAULT_RETRY_POLICY, 1, 9_999_999_999_999_000, () => 0.5), MAX_RETRY_AFTER_MS);
    assert.doesNotThrow(() => new Date(Date.now() + retryDelayMs(DEFAULT_RETRY_POLICY, 1, 9_999_999_999_999_000, () => 0.5)).toISOString());
  });
});
