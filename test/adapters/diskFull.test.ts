import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('the embedded event store on a full disk', () => {
  it('refuses the append with the retryable event_store_unavailable error, saying what to do, and keeps what it had', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-diskfull-'));
    try {
      // A file size limit for this process alone stands in for a full disk: writes past it fail
      // (EFBIG, with SIGXFSZ ignored), as they would with ENOSPC.
      const script = new URL('../support/fillEventStore.ts', import.meta.url).pathname;
      const { stdout } = await run('/bin/sh', ['-c', `trap '' XFSZ; ulimit -f 4096; exec "${process.execPath}" --import tsx "${script}" "${dir}"`], { cwd: process.cwd() });
      const result = JSON.parse(stdout) as { appended: number; refused?: { name: string; code?: string; message: string }; readable: number };
      assert.ok(result.appended > 0, stdout);
      assert.ok(result.refused, `an append is refused once the limit is reached: ${stdout}`);
      assert.equal(result.refused.name, 'EventStoreUnavailableError', stdout);
      assert.equal(result.refused.code, 'event_store_unavailable');
      assert.match(result.refused.message, /^events\.db: nothing was written \(SQLITE_(FULL|IOERR\w*): .*\); the disk holding .* is full or failing: free space there .* then retry$/);
      // Every append that was answered is still there; the refused one left nothing behind.
      assert.equal(result.readable, result.appended);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the embedded read-model store on a full disk', () => {
  for (const mode of ['inline', 'thread'] as const) {
    it(`refuses a commit (${mode === 'inline' ? 'written inline' : 'on the commit thread'}) naming the file and saying what to do, and keeps what it had`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'herald-diskfull-'));
      try {
        const script = new URL('../support/fillReadModels.ts', import.meta.url).pathname;
        const { stdout } = await run('/bin/sh', ['-c', `trap '' XFSZ; ulimit -f 4096; exec "${process.execPath}" --import tsx "${script}" "${dir}" ${mode}`], { cwd: process.cwd() });
        const result = JSON.parse(stdout) as { committed: number; refused?: string; readable: number };
        assert.ok(result.committed > 0, stdout);
        assert.ok(result.refused, `a commit is refused once the limit is reached: ${stdout}`);
        assert.match(result.refused, /read-models\.db: nothing was written \(SQLITE_(FULL|IOERR\w*): .*\); the disk holding .* is full or failing: free space there \(herald_data_dir_free_bytes in \/metrics\) or check the disk; the read models catch up by themselves once there is room$/);
        assert.equal(result.readable, result.committed);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
