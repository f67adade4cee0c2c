/**
 * The embedded default as `npm start` runs it: the API on the main thread, deliveries on a
 * delivery thread and the projector on a projections thread, all on the same SQLite files. What
 * crosses between them must work: deliveries, read models, readiness, metrics, start-up errors,
 * a clean stop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/configError.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/service.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

/** Niceness of each thread of this process, from /proc (field 19 of a task's stat). */
async function threadNiceness(): Promise<number[]> {
  const tids = await readdir('/proc/self/task');
  const stats = await Promise.all(tids.map((tid) => readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => null)));
  return stats.filter((s): s is string => s !== null).map((s) => Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]));
}

describe('background thread priority (HERALD_BACKGROUND_NICE)', { skip: process.platform !== 'linux' && 'threads have a niceness of their own on Linux only' }, () => {
  for (const nice of [7, 0]) {
    it(`runs the delivery and projections threads at niceness ${nice}, the API thread at the process's`, async () => {
      const before = (await threadNiceness()).filter((n) => n === 7).length;
      const h = await startTestHerald({ HERALD_BACKGROUND_NICE: String(nice) });
      try {
        assert.equal(h.herald.backend, 'thread');
        const niceness = await threadNiceness();
        assert.equal(niceness.filter((n) => n === 7).length - before, nice === 7 ? 2 : 0, `thread niceness: ${niceness.join(' ')}`);
        assert.equal(os.getPriority(), 0, 'the process (its main, API thread) keeps its priority');
        // The thread ids Herald reports are its two background threads: the ones niced.
        const [delivery, projections] = [h.herald.threads?.delivery?.tid, h.herald.threads?.projections?.tid];
        assert.ok(delivery && projections && new Set([delivery, projections, process.pid]).size === 3, JSON.stringify(h.herald.threads));
        for (const tid of [delivery, projections]) assert.equal(os.getPriority(tid), nice);
      } finally {
        await h.close();
      }
    });
  }
});

describe('background threads\' young generation (HERALD_SEMI_SPACE_MB)', () => {
  for (const [env, semiSpace] of [[{}, 64], [{ HERALD_SEMI_SPACE_MB: '8' }, 8]] as const) {
    it(`gives the delivery and projections threads ${semiSpace} MB semi-spaces (a ${3 * semiSpace} MB young generation)`, async () => {
      const h = await startTestHerald(env);
      try {
        assert.deepEqual([h.herald.threads?.delivery?.youngGenerationMb, h.herald.threads?.projections?.youngGenerationMb], [3 * semiSpace, 3 * semiSpace]);
      } finally {
        await h.close();
      }
    });
  }
});

describe('embedded default on three threads', () => {
  it('delivers, projects, reports readiness and metrics across the threads, and stops cleanly', async () => {
    const h = await startTestHerald();
    try {
      assert.equal(h.herald.backend, 'thread');
      const put = await h.app.inject({ method: 'PUT', url: '/v1/users/u-1', headers: auth, payload: { phone: '+1 415 555 0123', email: 'ada@example.com' } });
      assert.equal(put.statusCode, 200);
      const sent = await h.app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: { to: [{ userId: 'u-1' }], channels: ['sms', 'email'], category: 'alerts', content: { sms: { body: 'hi' }, email: { subject: 'Hi', text: 'hi' } } } });
      assert.equal(sent.statusCode, 202);
      const ids = sent.json<{ notifications: { id: string }[] }>().notifications.map((n) => n.id);

      // Delivered by the background thread's workers…
      const outbox = await eventually(10_000, 'both deliveries in the sandbox outbox', async () => {
        const lines = await h.outbox();
        return lines.length === 2 ? lines : undefined;
      });
      assert.deepEqual(outbox.map((l) => l.route).sort(), ['email', 'sms']);
      // …recorded in each notification's stream…
      for (const id of ids) {
        await eventually(10_000, `notification ${id} shown as sent`, async () => {
          const doc = (await h.app.inject({ method: 'GET', url: `/v1/notifications/${id}`, headers: auth })).json<{ status: string }>();
          return doc.status === 'sent' ? doc : undefined;
        });
      }
      // …and projected by the projections thread into the read model the API thread lists from.
      await eventually(10_000, "the user's notification list shows both as sent", async () => {
        const list = (await h.app.inject({ method: 'GET', url: '/v1/users/u-1/notifications', headers: auth })).json<{ notifications: { id: string; status: string }[] }>();
        const sentIds = list.notifications.filter((n) => n.status === 'sent').map((n) => n.id).sort();
        return sentIds.length === 2 && sentIds.join() === [...ids].sort().join() ? true : undefined;
      });

      const ready = await h.app.inject({ method: 'GET', url: '/ready' });
      assert.equal(ready.statusCode, 200);
      assert.equal(ready.json<{ checks: Record<string, boolean> }>().checks.subscriptions, true);

      // Delivery counters live on the delivery thread's registry; the main thread's scrape sums them in.
      const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
      assert.match(metrics, /herald_deliveries_total\{route="sms",provider="sandbox",outcome="sent"\} 1/);
      assert.match(metrics, /herald_subscription_lag_events\{group="delivery-sms"\} \d+/);
      assert.match(metrics, /herald_process_resident_memory_bytes \d+/);
      // Read-model gauges come from the projections thread: once it has applied everything, nothing is pending.
      assert.match(metrics, /herald_projection_position\{projection="notifications"\} [1-9]\d*\n/);
      await eventually(10_000, 'the notification log reported up to date', async () =>
        /herald_projection_lag_seconds\{projection="notifications"\} 0\n/.test((await h.app.inject({ method: 'GET', url: '/metrics' })).body) || undefined);
    } finally {
      await h.close();
    }
  });

  it('runs on one thread with HERALD_WORKER_THREAD=off', async () => {
    const h = await startTestHerald({ HERALD_WORKER_THREAD: 'off' });
    try {
      assert.equal(h.herald.backend, 'inline');
    } finally {
      await h.close();
    }
  });

  it("fails start-up with the delivery thread's configuration error, saying what to fix", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-thread-'));
    try {
      // Half a Twilio configuration: the provider is built on the delivery thread and refuses it.
      const config = loadConfig({ HERALD_DATA_DIR: dir, HERALD_API_KEY: 'test-key-0123456789abcdef', HERALD_TWILIO_ACCOUNT_SID: `AC${'1'.repeat(32)}` });
      await assert.rejects(startHerald(config, createLogger('silent')), (error: unknown) => error instanceof ConfigError && /HERALD_TWILIO/.test(error.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
