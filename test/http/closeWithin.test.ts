/**
 * The HTTP part of a stop (src/http/closeWithin.ts) on a real socket: a keep-alive connection
 * whose request finishes during the stop must not hold the stop to its deadline.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { API_KEY, startTestHerald } from '../support/herald.ts';

describe('closing the HTTP API in a stop', () => {
  it('a keep-alive request that finishes during the stop ends its connection: the stop is clean, not cut at the deadline', async () => {
    const lines: string[] = [];
    const log = new Writable({ write(chunk, _e, cb) { lines.push(String(chunk)); cb(); } });
    const h = await startTestHerald({ HERALD_WORKER_THREAD: 'off', HERALD_STOP_TIMEOUT_MS: '3000' }, {}, log);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as { port: number };
    const agent = new Agent({ keepAlive: true });
    try {
      const body = JSON.stringify({ phone: '+14155550100' });
      let connection: string | undefined;
      const answered = new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/users/u-ka', agent, headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
          connection = res.headers.connection;
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        // Half the body now, the rest once the stop has begun: the request is in flight through it.
        req.write(body.slice(0, 5));
        void sleep(300).then(() => req.end(body.slice(5)));
      });
      await sleep(100);
      const started = performance.now();
      const stopped = h.herald.stop().then(() => 'clean', (e: Error) => `${e.name}: ${e.message}`);
      assert.equal(await answered, 200);
      assert.equal(connection, 'close');
      assert.equal(await stopped, 'clean');
      assert.ok(performance.now() - started < 2500, `the stop took ${Math.round(performance.now() - started)} ms of its 3000 ms deadline`);
      assert.deepEqual(lines.filter((l) => /deadline passed/.test(l)), []);
    } finally {
      agent.destroy();
      await h.close().catch(() => undefined);
    }
  });
});
