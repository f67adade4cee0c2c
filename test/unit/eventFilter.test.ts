import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesFilter } from '../../src/ports/eventFilter.ts';

const event = (streamName: string, type: string, data = {}) => ({ streamName, type, data });

describe('which events a filter passes', () => {
  it('never a system event: a $-prefixed type, or any event in a $-prefixed stream (ESDB\'s PersistentConfig1)', () => {
    assert.equal(matchesFilter(undefined, event('notification-1', 'NotificationRequested')), true);
    assert.equal(matchesFilter(undefined, event('$$notification-1', '$metadata')), false);
    assert.equal(matchesFilter(undefined, event('notification-1', '$>')), false);
    assert.equal(matchesFilter(undefined, event('$persistentSubscriptionConfig', 'PersistentConfig1')), false);
    assert.equal(matchesFilter({ eventTypes: ['PersistentConfig1'] }, event('$persistentSubscriptionConfig', 'PersistentConfig1')), false);
    assert.equal(matchesFilter({ streamPrefixes: ['$persistent'] }, event('$persistentSubscriptionConfig', 'PersistentConfig1')), false);
  });
});
