/**
 * Crash safety: Herald runs as a child process on the embedded default while the sandbox fails a
 * share of calls; it is killed with SIGKILL twice mid-flight and restarted. Every accepted
 * notification must end sent, failed or suppressed, and duplicate deliveries stay within what
 * was in flight at each kill.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { spawnHerald } from '../support/childHerald.ts';
import { eventually } from '../support/wait.ts';

const KEY = 'crash-test-key-0123456789';
const USERS = 100;
const REQUESTS = 100;
const PER_REQUEST = 10;

describe('crash safety under SIGKILL', () => {
  it('loses no accepted notification across two kills and counts the duplicates', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-crash-'));
    const env = { HERALD_RATE_LIMIT_PER_MINUTE: '1000000', HERALD_DATA_DIR: dir, HERALD_API_KEY: KEY, HERALD_SANDBOX_FAILURE_RATE: '0.2', HERALD_RETRY_BASE_DELAY_MS: '20', HERALD_RETRY_MAX_DELAY_MS: '200', HERALD_SCHEDULER_TICK_MS: '50', HERALD_BATCH_WINDOW_MS: '5' };
    let herald = await spawnHerald(env);
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    try {
      for (let u = 0; u < USERS; u++) {
        const res = await fetch(`${herald.url}/v1/users/u${u}`, { method: 'PUT', headers, body: JSON.stringify({ email: `u${u}@example.com`, phone: `+1415555${String(1000 + u).padStart(4, '0')}` }) });
        assert.equal(res.status, 200);
      }
      const accepted = new Set<string>();
      let refused = 0;
      for (let r = 0; r < REQUESTS; r++) {
        if (r === 33 || r === 66) {
          herald.child.kill('SIGKILL');
          await herald.exited;
          herald = await spawnHerald(env);
        }
        const to = Array.from({ length: PER_REQUEST }, (_, i) => ({ userId: `u${(r * PER_REQUEST + i) % USERS}` }));
        const body = JSON.stringify({ to, channels: ['sms', 'email'], category: 'crash-test', content: { sms: { body: `m${r}` }, email: { subject: `m${r}`, text: 'x' } } });
        const res = await fetch(`${herald.url}/v1/notifications`, { method: 'POST', headers, body }).catch(() => undefined);
        if (res?.status !== 202) { refused += 1; continue; }
        for (const n of (await res.json() as { notifications: { id: string }[] }).notifications) accepted.add(n.id);
      }
      assert.equal(refused, 0, 'Herald answered every request it was sent while up');
      assert.equal(accepted.size, REQUESTS * PER_REQUEST * 2);

      const terminal = new Set(['sent', 'failed', 'suppressed']);
      const statuses = await eventually(120_000, 'every accepted notification to settle', async () => {
        const counts: Record<string, number> = {};
        for (const id of accepted) {
          const res = await fetch(`${herald.url}/v1/notifications/${id}`, { headers });
          const status = res.status === 200 ? (await res.json() as { status: string }).status : `http_${res.status}`;
          counts[status] = (counts[status] ?? 0) + 1;
          if (!terminal.has(status)) return undefined;
        }
        return counts;
      });
      const lines = (await readFile(join(dir, 'sandbox-outbox.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { notificationId: string; route: string });
      const perDelivery = new Map<string, number>();
      for (const l of lines) perDelivery.set(`${l.notificationId}:${l.route}`, (perDelivery.get(`${l.notificationId}:${l.route}`) ?? 0) + 1);
      const duplicates = [...perDelivery.values()].reduce((sum, n) => sum + n - 1, 0);
      t.diagnostic(`accepted ${accepted.size}; statuses ${JSON.stringify(statuses)}; outbox lines ${lines.length}; duplicate deliveries ${duplicates} over 2 kills`);
      assert.equal(Object.values(statuses).reduce((a, b) => a + b, 0), accepted.size, 'none lost');
      assert.ok((statuses.sent ?? 0) >= accepted.size * 0.95, 'retries carry almost everything through a 20% failure rate');
      // The window is the batch a worker had sent but not yet recorded when killed; it must not grow with the backlog.
      assert.ok(duplicates <= 2 * 2 * 500, `duplicates (${duplicates}) stay within two in-flight batches per route per kill`);
    } finally {
      herald.child.kill('SIGTERM');
      await herald.exited;
      if (!process.env.HERALD_KEEP_CRASH_DIR) await rm(dir, { recursive: true, force: true });
      else t.diagnostic(`kept ${dir}`);
    }
  });

  it('stops cleanly on SIGTERM mid-flight: exit 0, nothing lost, nothing sent twice after restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-term-'));
    const env = { HERALD_RATE_LIMIT_PER_MINUTE: '1000000', HERALD_DATA_DIR: dir, HERALD_API_KEY: KEY, HERALD_SANDBOX_LATENCY_MS: '100', HERALD_BATCH_WINDOW_MS: '5' };
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    let herald = await spawnHerald(env);
    try {
      for (let u = 0; u < 20; u++) await fetch(`${herald.url}/v1/users/u${u}`, { method: 'PUT', headers, body: JSON.stringify({ email: `u${u}@example.com` }) });
      const ids: string[] = [];
      for (let r = 0; r < 10; r++) {
        const res = await fetch(`${herald.url}/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ to: Array.from({ length: 20 }, (_, i) => ({ userId: `u${i}` })), category: 'c', content: { email: { subject: `s${r}`, text: 't' } } }) });
        ids.push(...(await res.json() as { notifications: { id: string }[] }).notifications.map((n) => n.id));
      }
      herald.child.kill('SIGTERM');
      assert.equal(await herald.exited, 0, 'a clean exit');
      herald = await spawnHerald(env);
      await eventually(60_000, 'all sent after restart', async () => {
        for (const id of ids) {
          const doc = await (await fetch(`${herald.url}/v1/notifications/${id}`, { headers })).json() as { status: string };
          if (doc.status !== 'sent') return undefined;
        }
        return true;
      });
      const lines = (await readFile(join(dir, 'sandbox-outbox.jsonl'), 'utf8')).split('\n').filter(Boolean);
      assert.equal(lines.length, ids.length, 'every notification delivered exactly once');
    } finally {
      herald.child.kill('SIGTERM');
      await herald.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
