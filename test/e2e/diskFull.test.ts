import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { eventually } from '../support/wait.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const FILE_LIMIT = 4 * 1024 * 1024;

describe('Herald on a full disk', () => {
  it('answers 503 event_store_unavailable with Retry-After, logs it once with what to do, and keeps running', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-diskfull-e2e-'));
    const key = 'disk-full-key-0123456789';
    // A file size limit for this process alone stands in for a full disk (writes past it fail with
    // EFBIG, SIGXFSZ ignored), as ENOSPC would; 4 MB per file hold the start-up and a few sends.
    // prlimit takes bytes (the shell's ulimit -f counts 512- or 1024-byte blocks, by shell).
    const child = spawn('/bin/sh', ['-c', `trap '' XFSZ; exec prlimit --fsize=${FILE_LIMIT} "${process.execPath}" --import tsx src/main.ts`], {
      cwd: root,
      env: { ...process.env, HERALD_DATA_DIR: dir, HERALD_API_KEY: key, HERALD_PORT: '0', HERALD_LOG_LEVEL: 'warn', HERALD_BODY_LIMIT_BYTES: String(4 * FILE_LIMIT) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = await eventually(30_000, 'Herald listening', async () => /listening on\s+(http:\/\/\S+)/.exec(output)?.[1]);
      const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
      assert.equal((await fetch(`${url}/v1/users/u1`, { method: 'PUT', headers, body: JSON.stringify({ email: 'u1@example.com' }) })).status, 200);
      const big = JSON.stringify({ to: [{ userId: 'u1' }], category: 'c', content: { email: { subject: 's', html: `<p>${'x'.repeat(300_000)}</p>` } } });
      let refused: Response | undefined;
      let accepted = 0;
      for (let i = 0; i < 200 && !refused; i++) {
        const res = await fetch(`${url}/v1/notifications`, { method: 'POST', headers, body: big });
        if (res.status === 202) accepted += 1;
        else refused = res;
      }
      assert.ok(accepted > 0 && refused, `some sends accepted (${accepted}), then one refused`);
      assert.equal(refused.status, 503);
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal(((await refused.json()) as { code: string }).code, 'event_store_unavailable');
      // A checkpoint may yet move the log's write-ahead file into events.db, which has its own limit
      // here (a real full disk would not), and make room for another send of that size; a send
      // larger than any one file may grow to is refused every time, whatever is moved meanwhile.
      const huge = JSON.stringify({ to: [{ userId: 'u1' }], category: 'c', content: { email: { subject: 's', text: '\u20ac'.repeat(1_000_000), html: `<p>${'\u20ac'.repeat(999_990)}</p>` } } });
      assert.ok(Buffer.byteLength(huge) > FILE_LIMIT);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/v1/notifications`, { method: 'POST', headers, body: huge });
        assert.deepEqual([res.status, ((await res.json()) as { code: string }).code], [503, 'event_store_unavailable']);
      }
      assert.equal((await fetch(`${url}/health`)).status, 200, 'still serving');
      assert.equal(child.exitCode, null);
      const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; requests?: number; err?: { message: string } });
      const outage = lines.filter((l) => l.msg.startsWith('event store unavailable'));
      assert.equal(outage.length, 1, 'one line, not one per refused request');
      assert.match(outage[0]!.err!.message, /^events\.db: nothing was written \(SQLITE_(FULL|IOERR\w*): .*\); the disk holding .* is full or failing: free space there/);
    } finally {
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
