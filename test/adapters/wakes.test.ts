import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PASSED_OVER_LOOK_MS, Wakes } from '../../src/adapters/eventStore/sqlite/wakes.ts';
import { nothingWithin, within } from '../support/wait.ts';

describe('catch-up subscription wake-ups', () => {
  it('wake a reader at once for a commit of its types, and any reader without a type filter', async () => {
    const wakes = new Wakes();
    try {
      const wanted = wakes.add(() => ({ eventTypes: ['Wanted'] }));
      const everything = wakes.add(() => undefined);
      const [a, b] = [wanted.signal.wait(), everything.signal.wait()];
      wakes.committed(['Other', 'Wanted']);
      await within(100, 'both readers woken', Promise.all([a, b]));
    } finally {
      wakes.close();
    }
  });

  it('pass over a reader for commits of other types, but let it look again within the passed-over interval', async () => {
    const wakes = new Wakes();
    try {
      const reader = wakes.add(() => ({ eventTypes: ['Wanted'] }));
      const woken = reader.signal.wait().then(() => performance.now());
      const committedAt = performance.now();
      wakes.committed(['Other']);
      assert.equal(await nothingWithin(20, woken), undefined, 'not woken by a commit of another type');
      const at = await within(PASSED_OVER_LOOK_MS * 5, 'the passed-over look', woken);
      assert.ok(at - committedAt >= 20);
    } finally {
      wakes.close();
    }
  });

  it('forget a removed reader, and wake every reader on close', async () => {
    const wakes = new Wakes();
    const removed = wakes.add(() => ({ eventTypes: ['Wanted'] }));
    const kept = wakes.add(() => ({ eventTypes: ['Wanted'] }));
    removed.remove();
    const notWoken = removed.signal.wait();
    wakes.committed(['Other']);
    assert.equal(await nothingWithin(PASSED_OVER_LOOK_MS * 2, notWoken), undefined, 'a removed reader is not looked for');
    const closing = kept.signal.wait();
    wakes.close();
    await within(100, 'woken by close', closing);
  });
});
