import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validate, version } from 'uuid';
import { pooledUuidV7 } from '../../src/adapters/ids.ts';

describe('pooled UUID v7 ids', () => {
  it('are valid v7 ids, unique, and strictly increasing, also many within one millisecond', () => {
    let t = 1_764_000_000_000;
    const ids = pooledUuidV7(() => t);
    const made: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      if (i % 5_000 === 0) t += 1;
      made.push(ids.next());
    }
    for (const id of made.slice(0, 10)) {
      assert.ok(validate(id), id);
      assert.equal(version(id), 7);
    }
    assert.equal(new Set(made).size, made.length);
    assert.deepEqual([...made].sort(), made, 'sorted as made');
  });

  it('carry the millisecond they were made in, and stay ordered if the clock steps back', () => {
    let t = Date.parse('2026-11-26T12:00:00.000Z');
    const ids = pooledUuidV7(() => t);
    const first = ids.next();
    assert.equal(parseInt(first.replaceAll('-', '').slice(0, 12), 16), t);
    t -= 1000;
    const second = ids.next();
    assert.ok(second > first, 'a clock that steps back does not reorder ids');
  });
});
