import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { WriteLock } from '../../src/adapters/eventStore/sqlite/writeLock.ts';

/** A thread that takes the lock (as WriteLock does, in plain JS so it needs no loader), notes when, and lets go. */
const contender = `
const { workerData, parentPort } = require('node:worker_threads');
const cell = new Int32Array(workerData.lock);
const log = new Float64Array(workerData.log);
const trying = new Int32Array(workerData.trying);
Atomics.store(trying, 0, 1);
Atomics.notify(trying, 0);
while (Atomics.compareExchange(cell, 0, 0, 1) !== 0) Atomics.wait(cell, 0, 1, 50);
log[0] = performance.timeOrigin + performance.now();
Atomics.store(cell, 0, 0);
Atomics.notify(cell, 0, 1);
parentPort.postMessage('done');
`;

describe('WriteLock shared by two threads', () => {
  it('makes the other thread wait until the holder is done, and no longer', async () => {
    const lock = new WriteLock();
    const log = new SharedArrayBuffer(8);
    const trying = new Int32Array(new SharedArrayBuffer(4));
    let releasedAt = 0;
    let worker: Worker | undefined;
    const done = new Promise<void>((resolve, reject) => {
      lock.hold(() => {
        worker = new Worker(contender, { eval: true, workerData: { lock: lock.buffer, log, trying: trying.buffer } });
        worker.on('error', reject);
        worker.on('message', (m) => m === 'done' && resolve());
        // Keep holding until the contender is trying, then 30 ms more: it is blocked all that time.
        Atomics.wait(trying, 0, 0, 10_000);
        assert.equal(Atomics.load(trying, 0), 1, 'the contender started');
        const until = Date.now() + 30;
        while (Date.now() < until);
        releasedAt = performance.timeOrigin + performance.now();
      });
    });
    await done;
    await worker?.terminate();
    const acquiredAt = new Float64Array(log)[0]!;
    assert.ok(acquiredAt >= releasedAt, 'the contender got the lock only after the holder let go');
  });

  it('gives up waiting for a holder that never lets go, and runs anyway (SQLite still serialises)', () => {
    const lock = new WriteLock(new SharedArrayBuffer(4), 20);
    Atomics.store(new Int32Array(lock.buffer), 0, 1); // a holder that died mid-commit
    assert.equal(lock.hold(() => 'ran'), 'ran');
    assert.equal(Atomics.load(new Int32Array(lock.buffer), 0), 1, "a lock it never took is not released by it");
  });
});
