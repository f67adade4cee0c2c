import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Generations } from '../../src/generations.ts';

describe('Generations', () => {
  it('drops the older generation whole once the recent one is full, keeping what was read', () => {
    const g = new Generations<string, number>(2);
    g.set('a', 1);
    g.set('b', 2);
    g.set('c', 3); // a and b are now the older generation
    assert.equal(g.get('a'), 1, 'read: moved to the recent generation');
    g.set('d', 4); // c and a are now the older generation; b is gone (reading them below moves them again, and keeps them)
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => g.get(k)), [1, undefined, 3, 4]);
  });

  it('starts a new generation when the entries would weigh more than a generation may hold', () => {
    const g = new Generations<string, number[]>(100, 5, (v) => v.length);
    g.set('a', [1, 2, 3]);
    g.set('b', [1, 2]); // 5: still one generation
    g.set('c', [1]); // 6: a and b become the older generation
    g.set('d', [1, 2, 3, 4, 5]); // c and d would weigh 6: c older, a and b dropped
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => g.get(k)?.length), [undefined, undefined, 1, 5]);
  });

  it('counts an entry replaced in the recent generation once, at its new weight', () => {
    const g = new Generations<string, number[]>(100, 10, (v) => v.length);
    g.set('other', [1, 2, 3]);
    // A stream held again after each new event: 1 + 2 + … + 6 events would be 21, over the
    // budget; held once, at 6, with the other 3 it is 9.
    for (let n = 1; n <= 6; n++) g.set('window', Array.from({ length: n }, (_, i) => i));
    assert.equal(g.get('other')?.length, 3);
    g.set('more', [1]); // 10: still one generation
    assert.deepEqual(['other', 'window', 'more'].map((k) => g.get(k)?.length), [3, 6, 1]);
    g.set('window', [1, 2, 3, 4, 5, 6, 7, 8]); // 3 + 8 + 1 = 12: a new generation starts with it
    g.set('next', [1, 2, 3]); // 11 in the recent generation: the older (other, more) is dropped
    assert.deepEqual(['other', 'window', 'more', 'next'].map((k) => g.get(k)?.length), [undefined, 8, undefined, 3]);
  });
});
