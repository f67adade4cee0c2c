/**
 * Start-up as `npm start` runs it, in real processes: one Herald per embedded data dir (a second
 * one would run the same delivery groups from the same checkpoints and deliver everything again),
 * a port in use said plainly, and the first-start API key.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { spawnHerald } from '../support/childHerald.ts';
import { eventually } from '../support/wait.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `src/main.ts` until it exits on its own: its exit code and what it wrote. */
function runToExit(env: Record<string, string>, args: readonly string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { cwd: root, env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => child.once('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, output });
  }));
}

describe('one Herald process per embedded data dir', () => {
  it('refuses a second process on the same dir, saying what to do; the dir is free again once the first is gone, even killed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-lock-'));
    const env = { HERALD_DATA_DIR: dir, HERALD_API_KEY: 'lock-test-key-0123456789' };
    const first = await spawnHerald(env);
    try {
      const second = await runToExit({ ...env, HERALD_PORT: '0' });
      assert.equal(second.code, 2, second.output);
      assert.match(second.output, new RegExp(`^herald: another Herald process is running on ${dir} \\(it holds ${join(dir, 'herald.lock')}\\): the embedded stores serve one process\\. Stop that one, or set HERALD_DATA_DIR to another directory\\n$`));
      assert.equal((await fetch(`${first.url}/health`)).status, 200, 'the first one serves on');
      first.child.kill('SIGKILL');
      await first.exited;
      const third = await spawnHerald(env);
      third.child.kill('SIGTERM');
      assert.equal(await third.exited, 0);
    } finally {
      first.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('says which address is taken when the port is in use, and exits 2', async () => {
    const dirs = [await mkdtemp(join(tmpdir(), 'herald-port-')), await mkdtemp(join(tmpdir(), 'herald-port-'))];
    const first = await spawnHerald({ HERALD_DATA_DIR: dirs[0]!, HERALD_API_KEY: 'port-test-key-0123456789' });
    try {
      const port = new URL(first.url).port;
      const second = await runToExit({ HERALD_DATA_DIR: dirs[1]!, HERALD_API_KEY: 'port-test-key-0123456789', HERALD_PORT: port });
      assert.equal(second.code, 2, second.output);
      assert.match(second.output, new RegExp(`herald: 127\\.0\\.0\\.1:${port} is already in use: stop what listens there, or set HERALD_PORT \\(and HERALD_HOST\\) to a free address\\n$`));
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the API key of a first start', () => {
  it('is issued once the API listens and shown once: a start that could not listen issues none, and the next start shows one that works', async () => {
    const dirs = [await mkdtemp(join(tmpdir(), 'herald-key-')), await mkdtemp(join(tmpdir(), 'herald-key-'))];
    const busy = await spawnHerald({ HERALD_DATA_DIR: dirs[0]!, HERALD_API_KEY: 'busy-test-key-0123456789' });
    const spawned = [busy];
    try {
      // No HERALD_API_KEY: a newcomer's first npm start, on a port something else holds.
      const blocked = await runToExit({ HERALD_DATA_DIR: dirs[1]!, HERALD_PORT: new URL(busy.url).port });
      assert.equal(blocked.code, 2, blocked.output);
      assert.doesNotMatch(blocked.output, /API key/);
      const first = await spawnHerald({ HERALD_DATA_DIR: dirs[1]! });
      spawned.push(first);
      const key = await eventually(5000, 'the banner with the key', () => /API key \(shown once, store it now\): (hk_\S+)/.exec(first.output())?.[1]);
      const authorized = await fetch(`${first.url}/v1/users/nobody`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(authorized.status, 404, 'the key shown is a working key');
      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0);
      const again = await spawnHerald({ HERALD_DATA_DIR: dirs[1]! });
      spawned.push(again);
      again.child.kill('SIGTERM');
      assert.equal(await again.exited, 0);
      assert.doesNotMatch(again.output(), /API key/, 'shown once');
    } finally {
      // Every process this test started, also when an assertion failed before it stopped them.
      for (const p of spawned) p.child.kill('SIGKILL');
      await Promise.all(spawned.map((p) => p.exited));
      for (const dir of dirs) await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the command line', () => {
  it('prints its usage for --help (exit 0), and names what is wrong with a bad one before the usage (exit 2)', async () => {
    const help = await runToExit({}, ['--help']);
    assert.equal(help.code, 0, help.output);
    assert.match(help.output, /^usage: herald \[all\|api\|worker\|projector\] \[--channels push,sms,email\]\n/);
    const unknown = await runToExit({}, ['--verbose']);
    assert.equal(unknown.code, 2, unknown.output);
    assert.match(unknown.output, /^herald: Unknown option '--verbose'\nusage: herald /);
    const two = await runToExit({}, ['api', 'worker']);
    assert.equal(two.code, 2, two.output);
    assert.match(two.output, /^herald: one role at a time, not api worker\nusage: herald /);
  });
});

describe('stopping', () => {
  it('a clean stop says it ended cleanly, and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stop-clean-'));
    const herald = await spawnHerald({ HERALD_DATA_DIR: dir, HERALD_API_KEY: 'stop-test-key-0123456789', HERALD_LOG_LEVEL: 'info' });
    try {
      herald.child.kill('SIGTERM');
      assert.equal(await herald.exited, 0);
      assert.match(herald.output(), /stopped cleanly: every delivery in flight finished or handed back, checkpoints written/);
    } finally {
      herald.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('waits for the provider calls in flight on the first signal, and stops at once on a second (exit 130)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-stop-'));
    const key = 'stop-test-key-0123456789';
    // Every provider call takes 20 s: a clean stop would wait for it.
    const herald = await spawnHerald({ HERALD_DATA_DIR: dir, HERALD_API_KEY: key, HERALD_SANDBOX_LATENCY_MS: '20000', HERALD_LOG_LEVEL: 'info' });
    try {
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      assert.equal((await fetch(`${herald.url}/v1/users/u1`, { method: 'PUT', headers, body: JSON.stringify({ email: 'u1@example.com' }) })).status, 200);
      assert.equal((await fetch(`${herald.url}/v1/notifications`, { method: 'POST', headers, body: JSON.stringify({ to: [{ userId: 'u1' }], category: 'c', content: { email: { subject: 's', text: 't' } } }) })).status, 202);
      // The worker takes it within its batch window (20 ms); its provider call then lasts 20 s.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      herald.child.kill('SIGINT');
      // The same signal again within milliseconds, as tsx's CLI relays a SIGTERM that a supervisor sent to the whole process group.
      herald.child.kill('SIGINT');
      await eventually(5000, 'the clean stop begun', () => (herald.output().includes('stopping: no new requests') ? true : undefined));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(herald.child.exitCode, null, 'the clean stop waits for the call in flight, the relayed signal taken as the same one');
      assert.doesNotMatch(herald.output(), /stopping at once/);
      const second = performance.now();
      herald.child.kill('SIGINT');
      assert.equal(await herald.exited, 130);
      assert.ok(performance.now() - second < 5000, 'did not wait for the call in flight');
      assert.match(herald.output(), /stopping at once: deliveries in flight are handed out again on the next start/);
    } finally {
      herald.child.kill('SIGKILL');
      await herald.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('real email without HERALD_PUBLIC_URL', () => {
  it('is refused at start-up, exit 2, saying that every link would point at this machine and what to set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-public-url-'));
    const sendgrid = { HERALD_SENDGRID_API_KEY: 'SG.test-key.abcdefghijklmnopqrstuvwxyz', HERALD_SENDGRID_FROM: 'news@herald.example' };
    try {
      const refused = await runToExit({ HERALD_DATA_DIR: dir, HERALD_API_KEY: 'public-url-key-0123456789', HERALD_PORT: '0', ...sendgrid });
      assert.equal(refused.code, 2, refused.output);
      assert.match(refused.output, /HERALD_PUBLIC_URL is not set, so the click links, open pixel and unsubscribe link in every email sent through SendGrid would point at http:\/\/127\.0\.0\.1:0.*set HERALD_PUBLIC_URL/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
