/**
 * A stop's deadline (HERALD_STOP_TIMEOUT_MS): Herald as a child process sends an SMS to a fake
 * Twilio that never answers, and gets SIGTERM. Without a deadline the stop waited for the call
 * (here Twilio's own 10 s timeout; forever for a call with none). With one it says what was still
 * in flight, closes the stores and exits non-zero; the next start sends the SMS. The deadline is
 * one for the whole stop: an HTTP request that never finishes, beside the call, does not add its
 * own wait to it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { spawnHerald } from '../support/childHerald.ts';
import { eventually } from '../support/wait.ts';
import { startFakeTwilio } from '../fakes/twilioServer.ts';
import { STOP_BACKSTOP_MS } from '../../src/stopDeadline.ts';

const KEY = 'stop-deadline-key-0123456789';
const ACCOUNT_SID = `AC${'a'.repeat(32)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const PHONE = '+14155550199';
const DEADLINE_MS = 1000;

for (const thread of ['on', 'off'] as const) describe(`a stop past its deadline (worker thread ${thread})`, () => {
  it('logs the messages still with a provider by route, closes the stores, exits non-zero, and the next start sends them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stop-'));
    const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    const env = {
      HERALD_DATA_DIR: dir, HERALD_API_KEY: KEY, HERALD_WORKER_THREAD: thread, HERALD_BATCH_WINDOW_MS: '5', HERALD_STOP_TIMEOUT_MS: String(DEADLINE_MS), HERALD_LOG_LEVEL: 'info',
      HERALD_PUBLIC_URL: 'https://herald.test', HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN, HERALD_TWILIO_FROM: '+15005550006', HERALD_TWILIO_BASE_URL: twilio.baseUrl,
    };
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    let herald = await spawnHerald(env);
    try {
      assert.equal((await fetch(`${herald.url}/v1/users/u1`, { method: 'PUT', headers, body: JSON.stringify({ phone: PHONE }) })).status, 200);
      twilio.setDelay(600_000);
      const res = await fetch(`${herald.url}/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ to: [{ userId: 'u1' }], channels: ['sms'], category: 'orders', content: { sms: { body: 'Your order shipped' } } }) });
      assert.equal(res.status, 202);
      const id = ((await res.json()) as { notifications: { id: string }[] }).notifications[0]!.id;
      await eventually(10_000, 'the SMS on its way to Twilio', () => (twilio.connections().total > 0 ? true : undefined));

      herald.child.kill('SIGTERM');
      const code = await herald.exited;
      const output = herald.output();
      assert.equal(code, 1, output);
      assert.match(output, /stop deadline passed with 1 message still with their provider \(sms: 1\)/);
      assert.match(output, /"inFlight":\{"sms":1\}/);
      assert.match(output, /stopped past the deadline \(HERALD_STOP_TIMEOUT_MS\) with delivery unfinished/);
      assert.ok(!output.includes(PHONE.slice(2)), 'no phone number in the log');

      twilio.setDelay(0);
      herald = await spawnHerald(env);
      const status = await eventually(15_000, 'the SMS sent after the restart', async () => {
        const n = (await (await fetch(`${herald.url}/v1/notifications/${id}`, { headers })).json()) as { status: string };
        return n.status === 'sent' ? n.status : undefined;
      });
      assert.equal(status, 'sent');
      assert.ok(twilio.requests.some((r) => r.to === PHONE && r.answeredStatus === 201));
      herald.child.kill('SIGTERM');
      assert.equal(await herald.exited, 0, herald.output());
      assert.match(herald.output(), /stopped cleanly/);
    } finally {
      if (herald.child.exitCode === null) {
        herald.child.kill('SIGKILL');
        await herald.exited;
      }
      await twilio.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps one deadline for the whole stop: a provider that never answers beside an HTTP request that never finishes ends within the deadline and its margin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stop-'));
    const twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, password: AUTH_TOKEN });
    const env = {
      HERALD_DATA_DIR: dir, HERALD_API_KEY: KEY, HERALD_WORKER_THREAD: thread, HERALD_BATCH_WINDOW_MS: '5', HERALD_STOP_TIMEOUT_MS: String(DEADLINE_MS), HERALD_LOG_LEVEL: 'info',
      // No request timeout: only the stop's deadline ends the request that never finishes.
      HERALD_REQUEST_TIMEOUT_MS: '0',
      HERALD_PUBLIC_URL: 'https://herald.test', HERALD_TWILIO_ACCOUNT_SID: ACCOUNT_SID, HERALD_TWILIO_AUTH_TOKEN: AUTH_TOKEN, HERALD_TWILIO_FROM: '+15005550006', HERALD_TWILIO_BASE_URL: twilio.baseUrl,
    };
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const herald = await spawnHerald(env);
    // A client that sends half its body and then nothing: a request in flight for as long as it lives.
    const stuck = request(`${herald.url}/v1/users/u2`, { method: 'PUT', headers: { ...headers, 'content-length': '64' } });
    const cut = new Promise<string>((resolve) => {
      stuck.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      stuck.on('response', (res) => resolve(`answered ${res.statusCode}`));
    });
    try {
      stuck.write('{"email":');
      assert.equal((await fetch(`${herald.url}/v1/users/u1`, { method: 'PUT', headers, body: JSON.stringify({ phone: PHONE }) })).status, 200);
      twilio.setDelay(600_000);
      const res = await fetch(`${herald.url}/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ to: [{ userId: 'u1' }], channels: ['sms'], category: 'orders', content: { sms: { body: 'Your order shipped' } } }) });
      assert.equal(res.status, 202);
      await eventually(10_000, 'the SMS on its way to Twilio', () => (twilio.connections().total > 0 ? true : undefined));

      const signalled = performance.now();
      herald.child.kill('SIGTERM');
      const code = await herald.exited;
      const tookMs = performance.now() - signalled;
      const output = herald.output();
      assert.equal(code, 1, output);
      // A correctness bound, not a benchmark: before, each part had a deadline of its own after the
      // one before it, and this stop waited for the request until the backstop (deadline + 15 s).
      assert.ok(tookMs < DEADLINE_MS + STOP_BACKSTOP_MS + 2_000, `the stop took ${Math.round(tookMs)} ms\n${output}`);
      assert.doesNotMatch(output, /still not done well past its deadline/, 'ended by the stop, not by the backstop');
      assert.match(output, /stop deadline passed with 1 HTTP request in flight/);
      assert.match(output, /stop deadline passed with 1 message still with their provider \(sms: 1\)/);
      assert.match(output, /stopped past the deadline \(HERALD_STOP_TIMEOUT_MS\) with http, delivery unfinished/);
      assert.match(await cut, /ECONNRESET|socket hang up/, 'the stuck request is cut');
    } finally {
      stuck.destroy();
      if (herald.child.exitCode === null) {
        herald.child.kill('SIGKILL');
        await herald.exited;
      }
      await twilio.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
