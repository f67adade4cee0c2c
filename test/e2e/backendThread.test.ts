/**
 * The embedded default as `npm start` runs it: the API on the main thread, deliveries on a
 * delivery thread and the projector on a projections thread, all on the same SQLite files. What
 * crosses between them must work: deliveries, read models, readiness, metrics, start-up errors,
 * a clean stop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';
import { ConfigError } from '../../src/configError.ts';
import { createLogger } from '../../src/logger.ts';
import { startHerald } from '../../src/service.ts';
import { auth, startTestHerald } from '../support/herald.ts';
import { eventually } from '../support/wait.ts';

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
