/**
 * The production topology on real sockets: API, projector and two delivery workers as separate
 * processes, on the EventStoreDB gRPC test server and the MongoDB wire-protocol test server.
 * Two workers on the same groups share the work; SIGKILL on one of them loses nothing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startEsdbTestServer } from '../fakes/esdb/server.ts';
import { startMongoTestServer } from '../fakes/mongo/server.ts';
import { spawnHerald } from '../support/childHerald.ts';
import { eventually } from '../support/wait.ts';

const KEY = 'roles-test-key-0123456789';

describe('separate roles on EventStoreDB and MongoDB', () => {
  it('two workers compete for deliveries and a killed worker loses nothing', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-roles-'));
    const esdb = await startEsdbTestServer(join(dir, 'esdb.db'));
    const mongo = await startMongoTestServer();
    const env = { HERALD_RATE_LIMIT_PER_MINUTE: '1000000', HERALD_EVENT_STORE: 'eventstoredb', EVENTSTORE_URL: esdb.url, HERALD_READ_STORE: 'mongodb', MONGODB_URL: mongo.url, HERALD_DATA_DIR: dir, HERALD_API_KEY: KEY, HERALD_SANDBOX_LATENCY_MS: '20', HERALD_BATCH_WINDOW_MS: '5' };
    const procs: Awaited<ReturnType<typeof spawnHerald>>[] = [];
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    try {
      for (const role of ['api', 'projector', 'worker', 'worker']) procs.push(await spawnHerald(env, role));
      const [api, , workerA] = procs;
      for (let u = 0; u < 20; u++) assert.equal((await fetch(`${api!.url}/v1/users/u${u}`, { method: 'PUT', headers, body: JSON.stringify({ email: `u${u}@example.com` }) })).status, 200);
      const ids: string[] = [];
      for (let r = 0; r < 20; r++) {
        if (r === 10) {
          workerA!.child.kill('SIGKILL');
          await workerA!.exited;
        }
        const res = await fetch(`${api!.url}/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ to: Array.from({ length: 20 }, (_, i) => ({ userId: `u${i}` })), category: 'c', content: { email: { subject: `s${r}`, text: 't' } } }) });
        assert.equal(res.status, 202);
        ids.push(...(await res.json() as { notifications: { id: string }[] }).notifications.map((n) => n.id));
      }
      await eventually(60_000, 'every notification sent', async () => {
        for (const id of ids) {
          const doc = await (await fetch(`${api!.url}/v1/notifications/${id}`, { headers })).json() as { status: string };
          if (doc.status !== 'sent') return undefined;
        }
        return true;
      });
      const lines = (await readFile(join(dir, 'sandbox-outbox.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { notificationId: string; pid: number });
      const byWorker = new Map<number, number>();
      for (const l of lines) byWorker.set(l.pid, (byWorker.get(l.pid) ?? 0) + 1);
      t.diagnostic(`deliveries per worker pid: ${JSON.stringify([...byWorker])}; total ${lines.length} for ${ids.length} notifications`);
      assert.equal(new Set(lines.map((l) => l.notificationId)).size, ids.length, 'every notification delivered');
      assert.ok(byWorker.size >= 2, 'both workers delivered a share');
      assert.ok(lines.length - ids.length <= 40, 'duplicates bounded by what the killed worker had in flight');
    } finally {
      for (const p of procs) {
        p.child.kill('SIGTERM');
        await p.exited;
      }
      await mongo.close();
      await esdb.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
